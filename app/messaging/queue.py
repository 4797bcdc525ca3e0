"""Sending and revoking the job's Celery messages, by task name.

The web process sends tasks by name, so it never imports the worker code. Messages are
only sent after the rows they name are committed (the callers' duty): a worker never
looks for a job that is not there yet.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from celery import Celery

from app.config import Config
from app.messaging.broker import BROKER_ERRORS

log = logging.getLogger(__name__)

RUN_JOB = "batch.run_job"
PROCESS_CHUNK = "batch.process_chunk"
SWEEP_JOBS = "batch.sweep_jobs"
DELIVER_CALLBACK = "batch.deliver_callback"
PURGE_RESULTS = "batch.purge_results"
# One quick retry, then give up: the job is committed and the sweeper sends it later.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def publish_options(celery: Celery) -> dict:
    """Return what bounds a publish: one quick retry, and RabbitMQ's confirm awaited no longer
    than a connection (``BROKER_TIMEOUT_SECONDS``); Redis is bounded by its socket timeout."""
    return {"retry_policy": _PUBLISH_RETRY,
            "confirm_timeout": celery.conf.broker_connection_timeout}


def whole_seconds(countdown: float) -> int:
    """Return a countdown as RabbitMQ's Native Delayed Delivery takes it: whole seconds, one
    at least (Celery routes it by ``int(countdown)`` and refuses one that rounds to zero).
    Redis gets the same, so a retry waits alike on either broker."""
    return max(1, math.ceil(countdown))


def job_task_id(job_id: int) -> str:
    """Return the task id of a job's start: the job's id, as text (task ids are strings)."""
    return str(job_id)


def chunk_task_id(job_id: int, chunk_no: int) -> str:
    """Return the task id of a chunk: known in advance, so a stop can revoke it."""
    return f"{job_id}:{chunk_no}"


def task_context(task_name: str, task_id: str) -> dict:
    """Return the job (and chunk) a job or chunk task id names, for its log lines."""
    if task_name == RUN_JOB:
        return {"taskId": task_id, "jobId": _number(task_id)}
    if task_name == PROCESS_CHUNK and ":" in task_id:
        job_id, chunk = task_id.rsplit(":", 1)
        return {"taskId": task_id, "jobId": _number(job_id), "chunk": _number(chunk)}
    return {"taskId": task_id}


def _number(text: str) -> int | str:
    """Return ``text`` as the integer it spells, or as it is (a task id of another kind)."""
    return int(text) if text.isdigit() else text


def enqueue_job(celery: Celery, job_id: int, *, queue: str | None = None) -> bool:
    """Send the job's start message (to ``queue``, else the default one); return False if
    the broker could not take it."""
    try:
        celery.send_task(RUN_JOB, args=[job_id], task_id=job_task_id(job_id),
                         queue=queue, **publish_options(celery))
        return True
    except BROKER_ERRORS as error:
        log.warning("job %s committed but not enqueued (the sweeper will): %s", job_id, error)
        return False


def enqueue_chunks(celery: Celery, job_id: int, chunk_nos: Iterable[int], *,
                   queue: str | None = None, countdown: float | None = None) -> None:
    """Send one message per chunk, to ``queue`` (else the default one), to run ``countdown``
    seconds from now if given."""
    for chunk_no in chunk_nos:
        celery.send_task(PROCESS_CHUNK, args=[job_id, chunk_no], queue=queue,
                         task_id=chunk_task_id(job_id, chunk_no), countdown=countdown,
                         confirm_timeout=celery.conf.broker_connection_timeout)


def job_queue(config: Config, bulk: bool) -> str:
    """Return the queue a job's start and chunks go to: bulk jobs have one of their own."""
    return config.BULK_QUEUE if bulk else config.CELERY_QUEUE


def enqueue_callback(celery: Celery, job_id: int) -> bool:
    """Send the job's webhook delivery (routed to its own queue); False if the broker is away."""
    try:
        celery.send_task(DELIVER_CALLBACK, args=[job_id], **publish_options(celery))
        return True
    except BROKER_ERRORS as error:
        log.warning("webhook of job %s not enqueued: %s", job_id, error)
        return False


def revoke_job(celery: Celery, job_id: int, chunk_nos: Iterable[int]) -> None:
    """Ask the workers to drop the job's start and these chunks' messages, those it sent and
    did not see applied (an optimisation: chunks check their job before applying)."""
    ids = [job_task_id(job_id)] + [chunk_task_id(job_id, n) for n in chunk_nos]
    try:
        celery.control.revoke(ids)
    except BROKER_ERRORS as error:
        log.warning("could not broadcast the revoke of job %s: %s", job_id, error)
