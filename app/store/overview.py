"""Every tenant's jobs at a glance, for operators: counts by status, the oldest still queued,
and the rows the dashboard lists. Nothing here is scoped to a tenant: only operator views
(``/metrics``, the dashboard) read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from app.store.jobs import FINISHED, OPEN, UNFINISHED

STATUSES = (OPEN, *UNFINISHED, *FINISHED)
UNFINISHED_SHOWN = 100
RECENT_SHOWN = 50


def job_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Return how many jobs of every tenant have each status (0 for none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, count(*) FROM batch_jobs GROUP BY status"):
        counts[status] = count
    return counts


def oldest_queued_age(conn: psycopg.Connection) -> float:
    """Return the age in seconds of the oldest job still queued (0 when none waits)."""
    # The partial index batch_jobs_unfinished serves this.
    age = conn.execute("SELECT extract(epoch FROM now() - min(created_at)) FROM batch_jobs"
                       " WHERE status = 'queued'").fetchone()[0]
    return float(age or 0)


@dataclass(frozen=True)
class BoardRow:
    """A job as the dashboard lists it, with its counts as they are now."""

    id: str
    tenant: str
    operation: str
    status: str
    total: int
    finished: int
    errors: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def settled(self) -> int:
        """Records with an outcome, applied or failed."""
        return self.finished + self.errors

    @property
    def percent(self) -> int:
        """How much of the job is settled, 0 to 100 (100 only once every record is; 0 for an
        upload whose records are not numbered yet)."""
        return self.settled * 100 // self.total if self.total else 0

    @property
    def stoppable(self) -> bool:
        """Whether the job can still be stopped."""
        return self.status in UNFINISHED


def board_rows(conn: psycopg.Connection) -> list[BoardRow]:
    """Return every unfinished job (oldest first, up to a bound) and the most recent ones,
    newest first; a running job's counts are the sums of its committed chunks."""
    with conn.cursor(row_factory=class_row(BoardRow)) as cursor:
        return cursor.execute(
            "SELECT j.id, t.name AS tenant, j.operation, j.status, j.total_count AS total,"
            " CASE WHEN j.status = 'running' THEN coalesce(c.finished, 0)"
            "  ELSE j.finished_count END AS finished,"
            " CASE WHEN j.status = 'running' THEN coalesce(c.errors, 0)"
            "  ELSE j.error_count END AS errors,"
            " j.created_at, j.started_at, j.finished_at"
            " FROM ((SELECT id FROM batch_jobs WHERE status = ANY(%s) ORDER BY created_at LIMIT %s)"
            "       UNION (SELECT id FROM batch_jobs ORDER BY created_at DESC LIMIT %s)) shown"
            " JOIN batch_jobs j ON j.id = shown.id JOIN tenants t ON t.id = j.tenant_id"
            " LEFT JOIN LATERAL (SELECT sum(finished_count) AS finished, sum(error_count) AS errors"
            "   FROM batch_chunks WHERE job_id = j.id AND done_at IS NOT NULL) c"
            "   ON j.status = 'running'"
            " ORDER BY j.created_at DESC, j.id",
            (list(UNFINISHED), UNFINISHED_SHOWN, RECENT_SHOWN),
        ).fetchall()
