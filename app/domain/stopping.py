"""Stopping a job: the one procedure behind the API's DELETE and the dashboard's Stop button.

The guarantee is the row lock taken in ``jobs.stop_job`` (see ``app.store.jobs``); revoking the
job's queued messages and dropping its live counters come after the commit, as tidying, and
so does the completion webhook, whoever stopped the job. Everything the stop needs to read
is read in its one transaction, after the lock: no chunk can change under it there.

An open upload (``app.store.uploads``) has nothing to stop: it is discarded, its parts
deleted and the job kept as stopped, with no records (its webhook says so, as a stopped
job's). A part streaming in holds the job's row, and the discard does not wait for it
(``UploadBusy``): the client is told at once.
"""

from __future__ import annotations

import logging

import psycopg
import redis

from app.domain import webhooks
from app.messaging import queue
from app.services import Services
from app.store import callbacks, jobs, uploads

log = logging.getLogger(__name__)


class UploadBusy(Exception):
    """The job is an open upload a part is being stored into right now."""


def stop_job(services: Services, job_id: int, *, tenant_id: int | None, by: str,
             chunks_up_to: int = 0) -> jobs.StopResult:
    """Stop a queued or running job, or discard an open upload; ``tenant_id`` None means any
    tenant's (an operator).

    Returns the job as it is after the stop (None if unknown), refused if it had already
    completed or failed, and, for a job of at most ``chunks_up_to`` records, its applied
    chunks. Once this returns, no record of the job is applied any more.
    """
    with services.db.transaction() as conn:
        discarded = _discard_if_open(conn, job_id, tenant_id)
        if discarded is None:
            result = jobs.stop_job(conn, tenant_id, job_id, chunks_up_to=chunks_up_to)
        else:
            result = jobs.StopResult(discarded)
        if result.job is None or result.refused:
            return result
        in_flight = jobs.in_flight_chunks(conn, job_id)
        # Asked here, not in a transaction of its own: the stop's lock makes it final.
        pending = callbacks.callback_pending(conn, job_id)
    if discarded is None:
        queue.revoke_job(services.celery, job_id, in_flight)
        try:
            services.progress.forget(job_id)
        except redis.RedisError as error:
            log.warning("live counters of stopped job %s not dropped: %s", job_id, error)
    log.info("job %s %s by %s", job_id, "discarded" if discarded else "stopped", by)
    webhooks.notify_job_ended(services, job_id, pending=pending)
    return result


def _discard_if_open(conn: psycopg.Connection, job_id: int, tenant_id: int | None
                     ) -> jobs.Job | None:
    """Discard the job if it is an open upload; return it then (None: it is not open)."""
    seen = jobs.get_job(conn, job_id, tenant_id=tenant_id)
    if seen is None or seen.status != jobs.OPEN:
        return None
    try:
        job = jobs.get_job(conn, job_id, lock="FOR UPDATE NOWAIT")
    except psycopg.errors.LockNotAvailable:
        raise UploadBusy(job_id) from None
    if job.status != jobs.OPEN:  # closed in between: it is stopped as any job is
        return None
    uploads.discard(conn, job_id)
    return jobs.get_job(conn, job_id)
