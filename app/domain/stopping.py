"""Stopping a job: the one procedure behind the API's DELETE and the dashboard's Stop button.

The guarantee is the row lock taken in ``jobs.stop_job`` (see ``app.store.jobs``); revoking the
job's queued messages and dropping its live counters come after the commit, as tidying, and
so does the completion webhook, whoever stopped the job. Everything the stop needs to read
is read in its one transaction, after the lock: no chunk can change under it there.
"""

from __future__ import annotations

import logging

import redis

from app.domain import webhooks
from app.messaging import queue
from app.services import Services
from app.store import callbacks, jobs

log = logging.getLogger(__name__)


def stop_job(services: Services, job_id: int, *, tenant_id: int | None, by: str,
             with_chunks: bool = False) -> jobs.StopResult:
    """Stop a queued or running job; ``tenant_id`` None means any tenant's (an operator).

    Returns the job as it is after the stop (None if unknown), refused if it had already
    completed or failed, and with ``with_chunks`` its applied chunks. Once this returns, no
    record of the job is applied any more.
    """
    with services.db.transaction() as conn:
        result = jobs.stop_job(conn, tenant_id, job_id, with_chunks=with_chunks)
        if result.job is None or result.refused:
            return result
        total_chunks = jobs.chunk_count(conn, job_id)
        # Asked here, not in a transaction of its own: the stop's lock makes it final.
        pending = callbacks.callback_pending(conn, job_id)
    queue.revoke_job(services.celery, job_id, total_chunks)
    try:
        services.progress.forget(job_id)
    except redis.RedisError as error:
        log.warning("live counters of stopped job %s not dropped: %s", job_id, error)
    log.info("job %s stopped by %s", job_id, by)
    webhooks.notify_job_ended(services, job_id, pending=pending)
    return result
