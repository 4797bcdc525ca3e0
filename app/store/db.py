"""PostgreSQL access: one lazily opened psycopg 3 connection pool per process.

The pool is opened on first use and re-opened after a fork, so neither gunicorn nor
Celery's prefork pool ever shares a connection (or the pool's threads) across processes.

Every connection is opened with the options that keep a lost host from holding anything for
long (``session_options``): a transaction on a connection whose other end fell silent (a
worker's machine cut off mid-chunk) keeps its row locks until the server drops the
connection, which by the kernel's TCP defaults takes hours. So both ends are told to give up
on a silent peer after ``DB_DEAD_PEER_SECONDS``: TCP keepalives for an idle connection,
``TCP_USER_TIMEOUT`` for one with data unacknowledged, asked of libpq for the client and of
the server through the session's own settings (no postgresql.conf change needed), and the
server checks the client's socket during a long statement too.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool

# JSON columns are parsed and written with orjson, process-wide.
set_json_loads(orjson.loads)
set_json_dumps(lambda value: orjson.dumps(value).decode())


class Database:
    """A connection pool for one database URL, safe to use across forks."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10,
                 statement_timeout_ms: int = 30_000, lock_timeout_ms: int = 15_000,
                 pool_timeout: int = 30, dead_peer_seconds: int = 15,
                 idle_in_transaction_timeout_ms: int = 20_000,
                 application_name: str = "batchq") -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._timeout = pool_timeout
        self._connect_kwargs = session_options(
            statement_timeout_ms=statement_timeout_ms, lock_timeout_ms=lock_timeout_ms,
            dead_peer_seconds=dead_peer_seconds,
            idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms)
        self._application_name = application_name
        self._pool: ConnectionPool | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def pool(self) -> ConnectionPool:
        """Return this process's pool, opening it on first use."""
        if self._pool is None or self._pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pid != os.getpid():
                    self._pool = self._open_pool()
                    self._pid = os.getpid()
        return self._pool

    def _open_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self.url,
            min_size=self._min_size,
            max_size=self._max_size,
            kwargs=self._kwargs(),
            # With the server away, a checkout fails (PoolTimeout) after this long instead
            # of the pool's default 30 s: the web answers 503, a chunk retries later.
            timeout=self._timeout,
            # A connection broken by a database restart is noticed and replaced at checkout.
            check=check_unless_quiet,
            open=True,
            name=f"batchq-{os.getpid()}",
        )

    def _kwargs(self) -> dict:
        # The pid in application_name tells an operator (and the fault tests) which
        # process holds a session seen in pg_stat_activity.
        return {**self._connect_kwargs, "connect_timeout": self._timeout,
                "application_name": f"{self._application_name}-{os.getpid()}"}

    def connect(self, **kwargs) -> psycopg.Connection:
        """Open one connection with this database's options, outside the pool (for a
        thread of its own, such as a worker's heartbeat)."""
        return psycopg.connect(self.url, **{**self._kwargs(), **kwargs})

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """Yield a connection inside one transaction, committed on success."""
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def statement(self) -> Iterator[psycopg.Connection]:
        """Yield a connection in autocommit, for one statement that needs no transaction.

        One round trip, where a transaction around it costs three (BEGIN, it, COMMIT).
        """
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                # As the pool's own check does: a broken connection is discarded anyway.
                with suppress(psycopg.Error):
                    conn.autocommit = False

    def close(self) -> None:
        """Close this process's pool, if it was opened here."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None


def session_options(*, statement_timeout_ms: int, lock_timeout_ms: int, dead_peer_seconds: int,
                    idle_in_transaction_timeout_ms: int) -> dict:
    """Return libpq's connection parameters for sessions that never wait long on anything.

    A silent peer is given up on after about ``dead_peer_seconds`` by either end: the first
    keepalive probe after a third of it, two more a third apart (idle connections), and
    ``TCP_USER_TIMEOUT`` (data sent but not acknowledged). The server learns its half from
    the session's options; ``client_connection_check_interval`` (PostgreSQL 14+) makes it
    look at the client's socket during a statement, so a lost client's long statement ends
    too.
    """
    third = max(1, dead_peer_seconds // 3)
    user_timeout_ms = dead_peer_seconds * 1000
    server = {
        "statement_timeout": statement_timeout_ms,
        "lock_timeout": lock_timeout_ms,
        "idle_in_transaction_session_timeout": idle_in_transaction_timeout_ms,
        "tcp_keepalives_idle": third,
        "tcp_keepalives_interval": third,
        "tcp_keepalives_count": 2,
        "tcp_user_timeout": user_timeout_ms,
        "client_connection_check_interval": third * 1000,
    }
    return {
        "options": " ".join(f"-c {name}={value}" for name, value in server.items()),
        "keepalives": 1,
        "keepalives_idle": third,
        "keepalives_interval": third,
        "keepalives_count": 2,
        "tcp_user_timeout": user_timeout_ms,
    }


def check_unless_quiet(conn: psycopg.Connection) -> None:
    """Pass an idle connection with nothing to read; ping any other (the pool's own check).

    The server says goodbye on a connection it ends (a restart, a crash, a terminated
    backend): a message, then the end of the stream, both of which make the socket
    readable. A healthy idle connection has nothing to read, so it is handed out without
    the round trip ``ConnectionPool.check_connection`` costs at every checkout, one per
    transaction. What reads as readable (that goodbye, or a rare notice) gets the ping,
    which raises on a dead connection so that the pool replaces it.
    """
    if not conn.closed:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        if not poller.poll(0):
            return
    ConnectionPool.check_connection(conn)


def connect(url: str, **kwargs) -> psycopg.Connection:
    """Open a single connection (for the CLI and tests), outside any pool."""
    return psycopg.connect(url, **kwargs)
