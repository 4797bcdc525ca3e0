"""What the operators' dashboard shows: every tenant's jobs with their progress, and the service.

The jobs listed are every unfinished one (oldest first, they are what an operator acts on)
and the most recent ones of any status; a running job's counts are the sums of its
committed chunks, read in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg

from app import cluster
from app.jobs import UNFINISHED
from app.services import Services
from workers.operations import title_of

UNFINISHED_SHOWN = 100
RECENT_SHOWN = 50


@dataclass(frozen=True)
class BoardJob:
    """One row of the dashboard."""

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
        """How much of the job is settled, 0 to 100 (100 only once every record is)."""
        return self.settled * 100 // self.total

    @property
    def stoppable(self) -> bool:
        return self.status in UNFINISHED


def board_jobs(conn: psycopg.Connection) -> list[BoardJob]:
    """Return the jobs the dashboard lists, newest first."""
    rows = conn.execute(
        "SELECT j.id, t.name, j.operation, j.status, j.total_count,"
        " CASE WHEN j.status = 'running' THEN coalesce(c.finished, 0) ELSE j.finished_count END,"
        " CASE WHEN j.status = 'running' THEN coalesce(c.errors, 0) ELSE j.error_count END,"
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
    return [BoardJob(row[0], row[1], title_of(row[2]), *row[3:]) for row in rows]


@dataclass(frozen=True)
class Board:
    """Everything one refresh of the dashboard shows."""

    jobs: list[BoardJob]
    service: cluster.Snapshot
    at: datetime


def board(services: Services) -> Board:
    """Read the dashboard's figures now."""
    with services.db.transaction() as conn:
        shown = board_jobs(conn)
    return Board(shown, cluster.snapshot(services), datetime.now(timezone.utc))


def brief(seconds: float) -> str:
    """Say a duration briefly: "42 s", "3 min", "5 h", "2 d"."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def ago(moment: datetime | None, now: datetime) -> str:
    """Say how long ago ``moment`` was, briefly ("" for never)."""
    return "" if moment is None else brief((now - moment).total_seconds())
