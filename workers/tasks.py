"""The Celery tasks: thin wrappers that call the plain functions and decide on retries."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from app.backoff import backoff_seconds
from app.domain import webhooks
from app.messaging.queue import (
    DELIVER_CALLBACK,
    PROCESS_CHUNK,
    PURGE_RESULTS,
    RUN_JOB,
    SWEEP_JOBS,
    enqueue_chunks,
    whole_seconds,
)
from app.observability import logs
from app.services import current_services
from workers import attempts, engine, retention, sweeper

log = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    """Seconds before retry number ``retries`` + 1 of a chunk (``app.backoff``)."""
    return whole_seconds(backoff_seconds(retries, base=1,
                                         maximum=current_services().config.CHUNK_RETRY_BACKOFF_MAX))


def _retry(task: Task, error: Exception):
    """Retry ``task`` with exponential backoff and jitter, within the configured bound."""
    return task.retry(exc=error, countdown=_backoff(task.request.retries),
                      max_retries=current_services().config.CHUNK_MAX_RETRIES,
                      confirm_timeout=task.app.conf.broker_connection_timeout)


def _from_before_integer_ids(job_id: object) -> bool:
    """Tell (and log) whether a message names its job by the hexadecimal id jobs had before
    their ids became integers (migration 0008): such a message, queued across the upgrade,
    is dropped; the sweeper sends its job's work again under the integer id."""
    if isinstance(job_id, int):
        return False
    log.warning("message for job %r from before integer job ids dropped; the sweeper sends "
                "its work again", job_id)
    return True


# The time limits of a task that applies a chunk: process_chunk, and run_job, which applies
# its job's first chunk.
CHUNK_TIME_LIMITS = {"soft_time_limit": 120, "time_limit": 150}


@shared_task(name=RUN_JOB, bind=True, acks_late=True, **CHUNK_TIME_LIMITS)
def run_job(self: Task, job_id: int) -> None:
    """Start a job: mark it running and split it into chunks; apply the first one here.

    The other chunks are enqueued first, so other workers start on them meanwhile. Applying
    the first chunk in this task saves a second task for a job of one chunk (a request of
    up to ``CHUNK_SIZE`` records, the common case): its message, events, delivery and
    acknowledgement.
    """
    if _from_before_integer_ids(job_id):
        return
    services = current_services()
    try:
        if not attempts.start_within_budget(services, job_id):
            return
        start = engine.start_job(services, job_id)
    except engine.TRANSIENT_ERRORS as error:
        raise _retry(self, error) from error
    if start.chunks:
        enqueue_chunks(self.app, job_id, start.chunks[1:], queue=start.queue)
        _apply_first_chunk(self, services, job_id, start.chunks[0], start.queue)


def _apply_first_chunk(task: Task, services, job_id: int, chunk_no: int, queue: str) -> None:
    """Apply a chunk in ``task``; if that fails, hand it to a task of its own to retry.

    The attempt is counted either way (``attempts.run_chunk``), so a chunk that kills
    whichever task applies it is still given up after ``CHUNK_MAX_ATTEMPTS``.
    """
    logs.bind(chunk=chunk_no)
    try:
        attempts.run_chunk(services, job_id, chunk_no)
    except Exception as error:  # noqa: BLE001 - retried as any chunk is, with backoff
        log.warning("chunk %s of job %s goes to a task of its own to be retried: %s",
                    chunk_no, job_id, error)
        enqueue_chunks(task.app, job_id, [chunk_no], queue=queue, countdown=_backoff(0))


@shared_task(name=PROCESS_CHUNK, bind=True, acks_late=True, **CHUNK_TIME_LIMITS)
def process_chunk(self: Task, job_id: int, chunk_no: int) -> None:
    """Apply one chunk of a job (exactly once), then complete the job if it was the last."""
    if _from_before_integer_ids(job_id):
        return
    services = current_services()
    try:
        attempts.run_chunk(services, job_id, chunk_no)
    except engine.TRANSIENT_ERRORS as error:
        if self.request.retries >= services.config.CHUNK_MAX_RETRIES:
            engine.fail_job(services, job_id,
                            f"Chunk {chunk_no} could not be applied after "
                            f"{self.request.retries} retries: {error}")
            return
        log.warning("chunk %s of job %s will be retried: %s", chunk_no, job_id, error)
        raise _retry(self, error) from error
    except Exception as error:
        # A bug or a poisoned chunk: tried again until its attempts are spent (then its
        # records fail); a lost retry message is the sweeper's to send again.
        raise _retry(self, error) from error


@shared_task(name=SWEEP_JOBS, acks_late=True, soft_time_limit=60, time_limit=90)
def sweep_jobs() -> None:
    """Re-enqueue the work of jobs that made no progress for too long (run by beat)."""
    sweeper.sweep(current_services())


@shared_task(name=DELIVER_CALLBACK, bind=True, acks_late=True, soft_time_limit=60, time_limit=90)
def deliver_callback(self: Task, job_id: int) -> None:
    """POST an ended job's status to its callback URL, retrying with exponential backoff."""
    if _from_before_integer_ids(job_id):
        return
    services = current_services()
    config = services.config
    try:
        webhooks.deliver(services, job_id)
    except (webhooks.DeliveryFailed, *engine.TRANSIENT_ERRORS) as error:
        attempt = self.request.retries + 1
        if attempt >= config.WEBHOOK_MAX_ATTEMPTS:
            log.error("webhook of job %s abandoned after %d attempts: %s", job_id, attempt, error)
            return
        countdown = whole_seconds(backoff_seconds(attempt, base=1,
                                                  maximum=config.WEBHOOK_RETRY_BACKOFF_MAX))
        log.warning("webhook of job %s failed (attempt %d), retry in %.1fs: %s",
                    job_id, attempt, countdown, error)
        raise self.retry(exc=error, countdown=countdown, max_retries=None,
                         confirm_timeout=self.app.conf.broker_connection_timeout) from error


@shared_task(name=PURGE_RESULTS, acks_late=True, soft_time_limit=600, time_limit=660)
def purge_results() -> None:
    """Purge old jobs' per-record results, expired Idempotency-Keys, uploads left open and
    the heartbeats of hosts gone for a day (run by beat)."""
    services = current_services()
    retention.purge_results(services)
    retention.purge_expired_keys(services)
    retention.discard_expired_uploads(services)
    retention.purge_forgotten_hosts(services)
