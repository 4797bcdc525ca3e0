"""Bounded attempts: a chunk, or a job's start, that keeps failing ends; it never loops.

Every delivery first counts an attempt in a transaction of its own, committed before any
work, so a worker killed mid-chunk (a record that exhausts memory, an OOM kill) still
leaves its attempt counted. Once ``CHUNK_MAX_ATTEMPTS`` are spent the chunk is given up:
each of its records fails with the reason, and the job completes with those errors
instead of hanging in ``running``. A job whose start keeps failing is marked ``failed``.

Transient errors (the database away, a lock wait, a deadlock victim) are not the chunk's
fault: their attempt is given back, and the task's retry bound (``CHUNK_MAX_RETRIES``,
exponential backoff) applies instead.
"""

from __future__ import annotations

import logging

from app.services import Services
from app.store import jobs
from workers import engine

log = logging.getLogger(__name__)

_ERROR_TEXT_LIMIT = 500


def run_chunk(services: Services, job_id: int, chunk_no: int) -> engine.ChunkReport:
    """Apply a chunk within its attempt budget; give it up once the budget is spent.

    Raises what the attempt raised while budget remains, so that the task retries it.
    """
    limit = services.config.CHUNK_MAX_ATTEMPTS
    # One statement, committed on its own before any work (autocommit: one round trip).
    with services.db.statement() as conn:
        attempt = jobs.begin_chunk_attempt(conn, job_id, chunk_no)
    if attempt is None:
        log.info("chunk %s of job %s is being applied by another delivery", chunk_no, job_id)
        return engine.ChunkReport(False, skipped_because="being applied")
    if attempt.applied:
        # A redelivery: apply_chunk changes nothing, but counts it and finishes the job
        # if the first delivery died before it could.
        return engine.apply_chunk(services, job_id, chunk_no)
    if attempt.number > limit:
        # The previous deliveries died without a word (the worker was lost) or raised.
        return give_up_chunk(services, job_id, chunk_no, limit, attempt.last_error)
    try:
        return engine.apply_chunk(services, job_id, chunk_no)
    except engine.TRANSIENT_ERRORS as error:
        _note_quietly(services, job_id, chunk_no, error, refund=True)
        raise
    except Exception as error:  # noqa: BLE001 - a bug or a poisoned chunk: bounded below
        log.exception("chunk %s of job %s failed (attempt %s of %s)", chunk_no, job_id,
                      attempt.number, limit)
        _note_quietly(services, job_id, chunk_no, error, refund=False)
        if attempt.number >= limit:
            return give_up_chunk(services, job_id, chunk_no, limit, describe(error))
        raise


def give_up_chunk(services: Services, job_id: int, chunk_no: int, attempts: int,
                  last_error: str | None) -> engine.ChunkReport:
    """Settle a chunk that cannot be applied: its records fail, naming why."""
    cause = (f"last error: {last_error.split(':', 1)[0]}" if last_error
             else "the worker applying it was lost each time")
    message = (f"record: Could not be applied: its chunk failed {attempts} attempts "
               f"({cause}); it has been logged.")
    log.error("chunk %s of job %s given up after %s attempts: %s", chunk_no, job_id, attempts,
              last_error or "worker lost")
    try:
        return engine.apply_chunk(services, job_id, chunk_no, give_up_because=message)
    except engine.TRANSIENT_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - even failing the records failed: stop the job
        log.exception("chunk %s of job %s could not be given up", chunk_no, job_id)
        engine.fail_job(services, job_id, f"Chunk {chunk_no} could not be applied nor its "
                                          f"records failed: {describe(error)}")
        return engine.ChunkReport(False, skipped_because="job failed")


def start_within_budget(services: Services, job_id: int) -> bool:
    """Count an attempt at starting the job; False (and the job failed) once spent."""
    limit = services.config.CHUNK_MAX_ATTEMPTS
    with services.db.statement() as conn:
        number = jobs.begin_start_attempt(conn, job_id)
    if number is not None and number > limit:
        engine.fail_job(services, job_id,
                        f"The job could not be started in {limit} attempts; it has been logged.")
        return False
    return True


def describe(error: BaseException) -> str:
    """Return ``Type: message`` for an error, short enough to store."""
    return f"{type(error).__name__}: {error}"[:_ERROR_TEXT_LIMIT]


def _note_quietly(services: Services, job_id: int, chunk_no: int, error: BaseException, *,
                  refund: bool) -> None:
    """Keep the chunk's last error; if the database is away too, the log has it."""
    try:
        with services.db.transaction() as conn:
            jobs.note_chunk_error(conn, job_id, chunk_no, describe(error), refund=refund)
    except Exception as noting_error:  # noqa: BLE001 - best effort, never hide the first error
        log.warning("could not record the error of chunk %s of job %s: %s", chunk_no, job_id,
                    noting_error)
