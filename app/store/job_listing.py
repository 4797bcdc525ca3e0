"""Listing a tenant's jobs, newest first, a keyset page at a time.

Pages are cut on ``(created_at, id)``, the order of the index
``batch_jobs_tenant_created_id``, so every page costs the same however deep it is, and
jobs submitted while a client pages through never shift or repeat what it sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import kwargs_row

from app.store import jobs


@dataclass(frozen=True)
class ListedJob:
    """A job of the listing, with its counts as they are now."""

    job: jobs.Job
    counts: tuple[int, int] | None  # (finished, errors) summed from chunks while it runs


@dataclass(frozen=True)
class JobFilter:
    """What the client asked to see."""

    status: str | None = None
    operation: str | None = None
    created_after: datetime | None = None

    def created_from(self) -> datetime | None:
        """Return the first instant a job may be created at to pass ``created_after``.

        Timestamps are shown to the millisecond, so "after" counts in milliseconds: a job
        whose ``createdAt`` a client passes back is not listed again.
        """
        if self.created_after is None:
            return None
        moment = self.created_after
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        try:
            return moment + timedelta(milliseconds=1)
        except OverflowError:  # the last millisecond there is: nothing comes after it
            return moment


def list_jobs(conn: psycopg.Connection, tenant_id: int, where: JobFilter, *,
              before: tuple[datetime, int] | None, limit: int) -> list[ListedJob]:
    """Return up to ``limit`` of the tenant's jobs older than the ``before`` position."""
    conditions, params = [sql.SQL("j.tenant_id = %s")], [tenant_id]
    for condition, value in (("j.status = %s", where.status),
                             ("j.operation = %s", where.operation),
                             ("j.created_at >= %s", where.created_from())):
        if value is not None:
            conditions.append(sql.SQL(condition))
            params.append(value)
    if before is not None:
        conditions.append(sql.SQL("(j.created_at, j.id) < (%s, %s)"))
        params.extend(before)
    # A running job's figures are not on its row yet: sum its committed chunks.
    query = sql.SQL(
        "SELECT {columns}, live.finished AS live_finished, live.errors AS live_errors"
        " FROM batch_jobs j LEFT JOIN LATERAL {sums} live ON j.status = 'running'"
        " WHERE {conditions} ORDER BY j.created_at DESC, j.id DESC LIMIT %s").format(
            columns=jobs.select_list(jobs.JOB_FIELDS, "j"), sums=jobs.CHUNK_SUMS,
            conditions=sql.SQL(" AND ").join(conditions))
    with conn.cursor(row_factory=kwargs_row(_listed_job)) as cursor:
        return cursor.execute(query, [*params, limit]).fetchall()


def _listed_job(*, live_finished: int | None, live_errors: int | None, **job: Any) -> ListedJob:
    counts = (live_finished, live_errors) if job["status"] == "running" else None
    return ListedJob(jobs.Job(**job), counts)
