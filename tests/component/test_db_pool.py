"""The pool's checkout check: no round trip for a quiet connection, a new one for a dead one."""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from app.store.db import Database, check_unless_quiet
from devtools.service import wait_until


@pytest.fixture
def pings(monkeypatch) -> list[psycopg.Connection]:
    """Record each connection the pool's own round-trip check is run on."""
    seen: list[psycopg.Connection] = []
    original = ConnectionPool.check_connection

    def recording(conn):
        seen.append(conn)
        original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(recording))
    return seen


def _terminate(db: psycopg.Connection, conn: psycopg.Connection) -> None:
    """End ``conn``'s server process, as a restart would, and wait for its goodbye."""
    pid = conn.info.backend_pid
    db.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_until(lambda: not db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                      (pid,)).fetchone(), timeout=10, what="the backend to end")


def test_a_quiet_idle_connection_is_handed_out_without_a_ping(database_url, pings):
    with psycopg.connect(database_url) as conn:
        check_unless_quiet(conn)
    assert pings == []


def test_a_connection_the_server_ended_fails_the_check(database_url, db, pings):
    # Closed, not committed, on the way out: after the failed ping libpq may not have seen
    # the end of the stream yet, so the connection can still look open, and a COMMIT on it
    # would raise again (seen once in CI).
    with closing(psycopg.connect(database_url)) as conn:
        _terminate(db, conn)
        with pytest.raises(psycopg.OperationalError):
            check_unless_quiet(conn)
    assert len(pings) == 1


def test_the_pool_replaces_a_connection_whose_server_process_ended(database_url, db, pings):
    database = Database(database_url, min_size=1, max_size=1)
    try:
        with database.transaction() as conn:
            first_pid = conn.info.backend_pid
        with database.transaction() as conn:
            assert conn.info.backend_pid == first_pid  # the same, quiet connection again
        assert pings == []
        with database.transaction() as conn:
            _terminate(db, conn)
        with database.transaction() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != first_pid
        assert len(pings) == 1
    finally:
        database.close()
