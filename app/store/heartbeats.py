"""Workers' heartbeats: one row per Celery worker, rewritten every few seconds by the worker.

A row per worker process (its host and pid, its node name, the address PostgreSQL sees it
connect from, its pool size, when it last beat) rather than a ping or Celery's own heartbeat
events: PostgreSQL keeps a host that vanished, so it can be shown as lost rather than simply
missing, and every web process reads the same answer whichever broker carries the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

# A host not heard of for this long is forgotten: listed as lost until then.
FORGET_AFTER = "1 day"


@dataclass(frozen=True)
class Host:
    """A machine that runs (or ran) workers, as its heartbeats describe it."""

    host: str
    addresses: list[str]
    workers: int  # worker nodes beating now (0 once lost)
    processes: int  # their pool processes
    last_heartbeat: datetime
    lost: bool


def beat(conn: psycopg.Connection, host: str, pid: int, node: str, concurrency: int) -> None:
    """Record that the worker ``pid`` on ``host`` (Celery's ``node``) is alive now."""
    conn.execute(
        "INSERT INTO worker_heartbeats (host, pid, node, address, concurrency)"
        " VALUES (%s, %s, %s, inet_client_addr(), %s)"
        " ON CONFLICT (host, pid) DO UPDATE SET node = excluded.node,"
        " address = excluded.address, concurrency = excluded.concurrency, beat_at = now()",
        (host, pid, node, concurrency))


def leave(conn: psycopg.Connection, host: str, pid: int) -> None:
    """Forget the worker ``pid`` on ``host``: it stopped cleanly."""
    conn.execute("DELETE FROM worker_heartbeats WHERE (host, pid) = (%s, %s)", (host, pid))


def hosts(conn: psycopg.Connection, lost_after_seconds: int) -> list[Host]:
    """Return every host heard of within a day, by name; lost if silent for that long."""
    with conn.cursor(row_factory=class_row(Host)) as cursor:
        return cursor.execute(
            "WITH w AS (SELECT *, beat_at > now() - make_interval(secs => %s) AS alive"
            "  FROM worker_heartbeats WHERE beat_at > now() - %s::interval)"
            " SELECT host, array_agg(DISTINCT coalesce(host(address), 'local')) AS addresses,"
            " count(*) FILTER (WHERE alive)::int AS workers,"
            " coalesce(sum(concurrency) FILTER (WHERE alive), 0)::int AS processes,"
            " max(beat_at) AS last_heartbeat, NOT bool_or(alive) AS lost"
            " FROM w GROUP BY host ORDER BY host",
            (lost_after_seconds, FORGET_AFTER)).fetchall()


def purge_forgotten(conn: psycopg.Connection) -> int:
    """Delete the heartbeats of workers not heard of for a day; return how many."""
    return conn.execute("DELETE FROM worker_heartbeats WHERE beat_at <= now() - %s::interval",
                        (FORGET_AFTER,)).rowcount
