"""Completion webhooks as rows: the job's callback URL, the digest its signatures are keyed by,
and the delivery's attempts. Written in the job's own transaction; read by the delivery task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from app.store.jobs import FINISHED


@dataclass(frozen=True)
class Callback:
    """Where a job's final status goes, and whether it went."""

    url: str
    signing_key_digest: bytes
    delivered_at: datetime | None


def attach(conn: psycopg.Connection, job_id: int, url: str, secret_key_digest: bytes) -> None:
    """Store the job's callback URL and the digest its signatures are keyed by."""
    conn.execute("INSERT INTO job_callbacks (job_id, url, signing_key_digest) VALUES (%s, %s, %s)",
                 (job_id, url, secret_key_digest))


def pending_condition(job_id: sql.Composable) -> sql.Composed:
    """Return an SQL condition: the job ``job_id`` (an SQL expression) has a callback not yet
    delivered. For a statement that asks it alongside its own work, in one round trip."""
    return sql.SQL("EXISTS (SELECT 1 FROM job_callbacks cb WHERE cb.job_id = {}"
                   " AND cb.delivered_at IS NULL)").format(job_id)


def callback_pending(conn: psycopg.Connection, job_id: int) -> bool:
    """Return whether the job has a callback not yet delivered."""
    query = sql.SQL("SELECT {}").format(pending_condition(sql.Placeholder()))
    return conn.execute(query, (job_id,)).fetchone()[0]


def find(conn: psycopg.Connection, job_id: int) -> Callback | None:
    """Return the job's callback, or None if it has none."""
    with conn.cursor(row_factory=class_row(Callback)) as cursor:
        return cursor.execute("SELECT url, signing_key_digest, delivered_at FROM job_callbacks"
                              " WHERE job_id = %s", (job_id,)).fetchone()


def never_attempted(conn: psycopg.Connection, older_than_seconds: int, limit: int
                    ) -> list[int]:
    """Return jobs that ended that long ago whose callback was never attempted (its message
    lost), oldest first."""
    rows = conn.execute(
        "SELECT c.job_id FROM job_callbacks c JOIN batch_jobs j ON j.id = c.job_id"
        " WHERE c.delivered_at IS NULL AND c.attempts = 0 AND j.status = ANY(%s)"
        " AND j.finished_at < now() - make_interval(secs => %s)"
        " ORDER BY j.finished_at LIMIT %s",
        (list(FINISHED), older_than_seconds, limit)).fetchall()
    return [row[0] for row in rows]


def record_attempt(conn: psycopg.Connection, job_id: int, error: str | None) -> None:
    """Count a delivery attempt; no error means delivered."""
    conn.execute(
        "UPDATE job_callbacks SET attempts = attempts + 1, last_error = %s,"
        " delivered_at = CASE WHEN %s THEN now() END WHERE job_id = %s",
        (error, error is None, job_id))
