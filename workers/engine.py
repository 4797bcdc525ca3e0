"""The job machinery as plain functions: start a job, apply a chunk, finish the job.

The Celery tasks in ``workers.tasks`` are thin wrappers around these, so tests can call
them without a broker. Every function is safe to run twice for the same job or chunk:
that is what lets the broker redeliver, and the sweeper re-enqueue, without fear.

A request's job holds its records as one JSON array; a bulk job's chunk reads its own block
of uploaded lines (``app.domain.block_records``), its records indexed from the block's
first. A bulk job keeps ``BULK_CHUNKS_IN_FLIGHT`` chunks in its queue: each chunk that
commits claims the next one in its own transaction and sends it after the commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
import psycopg
import psycopg.errors
import redis
from marshmallow import ValidationError, fields
from psycopg import sql

from app.catalogue import Operation, get_operation
from app.domain import webhooks
from app.domain.block_records import Unreadable, block_records
from app.error_codes import (
    INVALID_PAYLOAD,
    INVALID_TRANSACTION_TIME,
    INVALID_VALUE,
    MISSING_ARGUMENTS,
    UNEXPECTED,
    ErrorCode,
)
from app.messaging import queue
from app.observability import metrics
from app.services import Services
from app.store import callbacks, jobs, uploads
from app.store.statements import rendered
from schemas.fields import storable_json, text_known_storable
from schemas.messages import error_line, flatten_errors
from workers.operations import APPLY, ApplyChunk, ChunkContext, Outcome, ValidRecord

log = logging.getLogger(__name__)

# Errors that say "try the whole chunk again later", never "this record is bad".
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.errors.TransactionRollback,
)


@dataclass(frozen=True)
class ChunkReport:
    """What applying a chunk did: its figures, or why it applied nothing."""

    applied: bool
    finished_count: int = 0
    error_count: int = 0
    skipped_because: str | None = None


@dataclass(frozen=True)
class Start:
    """What a job's start leaves to do: the chunks to send (the first to apply at once), and
    the queue they go to."""

    chunks: list[int]
    queue: str


def start_job(services: Services, job_id: int) -> Start:
    """Mark the job running, split it into chunks; return the chunks to send now.

    A request's job sends every chunk not applied yet; a bulk job (whose chunks its upload
    made) those in flight, topped up to its window. A start delivered again sends them again.
    """
    config = services.config
    with services.db.transaction() as conn:
        job = jobs.mark_running(conn, job_id)
        if job is None or job.status != "running":
            log.info("job %s not started: %s", job_id, job.status if job else "unknown")
            return Start([], config.CELERY_QUEUE)
        pending, done = jobs.split_into_chunks(conn, job_id, job.total_count, config.CHUNK_SIZE)
        if job.bulk and pending:
            pending = jobs.chunks_to_send(conn, job_id, config.BULK_CHUNKS_IN_FLIGHT)
    if len(pending) + len(done) > 1:  # live counters only for several chunks (apply_chunk)
        _rebuild_progress(services, job_id, done)
    if not pending:
        finish_job(services, job_id)
    return Start(pending, queue.job_queue(config, job.bulk))


def apply_chunk(services: Services, job_id: int, chunk_no: int, *,
                give_up_because: str | None = None) -> ChunkReport:
    """Apply one chunk in one transaction, exactly once, unless the job was stopped.

    With ``give_up_because`` the chunk is settled without applying anything: each of its
    records fails with that message (see ``workers.attempts``).
    """
    started = time.perf_counter()
    completion = None  # what _complete answered, if the job completed in this transaction
    next_chunks: list[int] = []  # a bulk job's chunks claimed to keep its window full
    with services.db.transaction() as conn:
        job = jobs.get_job(conn, job_id, lock="FOR SHARE")
        if job is None or job.status != "running":
            return ChunkReport(False, skipped_because=job.status if job else "unknown job")
        locked = jobs.lock_chunk(conn, job_id, chunk_no)
        if locked is None:  # no such chunk, or another delivery is applying it right now
            return ChunkReport(False, skipped_because="being applied or unknown")
        chunk, already_done = locked
        whole_job = chunk.first_index == 0 and chunk.record_count == job.total_count
        if already_done is not None:
            report = ChunkReport(False, already_done.finished_count, already_done.error_count,
                                 skipped_because="already applied")
        else:
            operation = get_operation(job.operation)
            apply = APPLY[job.operation]
            stored, records, base = _chunk_records(conn, job, chunk, operation)
            if give_up_because is None:
                context = ChunkContext(job.tenant_id, job_id, services.config)
                # One search of the stored bytes spares each record its own text check.
                with text_known_storable(storable_json(stored)):
                    successful, failed = evaluate_chunk(operation, apply, conn, context, records,
                                                        chunk.first_index, chunk.record_count,
                                                        base=base)
            else:
                successful = []
                failed = _entries(records, base, operation, [
                    Outcome.failed(index, UNEXPECTED, give_up_because)
                    for index in range(chunk.first_index, chunk.first_index + chunk.record_count)])
            jobs.complete_chunk(conn, job_id, chunk_no, successful, failed)
            report = ChunkReport(True, len(successful), len(failed))
            if job.bulk:
                next_chunks = jobs.claim_unsent_chunks(conn, job_id, 1)
            if whole_job:
                # The job's only chunk: no other chunk can commit concurrently, so the job
                # completes in the chunk's own transaction, one commit (and one WAL flush)
                # fewer than completing it after (finish_job).
                completion = _complete(conn, job_id)
    # Committed: count it (once, however often we get here) and see if the job is done.
    if report.applied:
        metrics.record_chunk(job.operation, time.perf_counter() - started,
                             report.finished_count, report.error_count)
    # The live counters show a job's progress between its chunks: a job of one chunk has
    # none to show, so it goes without them (GET sums its chunks), three Redis calls fewer.
    if not whole_job:
        _count_chunk(services, job_id, chunk_no, report)
    if next_chunks:
        _send_quietly(services, job_id, next_chunks)
    if completion is not None:
        _after_completion(services, job_id, completion, live_counters=False)
    else:  # a chunk of several, or a redelivery: the last chunk's commit completes the job
        finish_job(services, job_id, live_counters=not whole_job)
    return report


def _chunk_records(conn: psycopg.Connection, job: jobs.Job, chunk: jobs.ChunkRange,
                   operation: Operation) -> tuple[bytes, list[Any], int]:
    """Return the stored bytes that hold a chunk's records, the records, and the index of
    the first of them: a request's whole array (from 0), or a bulk chunk's block."""
    if chunk.part_no is None:
        stored = jobs.stored_records(conn, job.id)
        return stored, orjson.loads(stored), 0
    block = uploads.read_block(conn, job.id, chunk.part_no, chunk.block_no)
    return block.lines, block_records(block, operation), chunk.first_index


def _send_quietly(services: Services, job_id: int, chunk_nos: list[int]) -> None:
    """Send a bulk job's next chunks; if the broker is away, the sweeper sends them later."""
    try:
        queue.enqueue_chunks(services.celery, job_id, chunk_nos,
                             queue=services.config.BULK_QUEUE)
    except Exception as error:  # noqa: BLE001 - marked sent: the sweeper resends what is lost
        log.warning("next chunks %s of job %s not sent (the sweeper will): %s", chunk_nos,
                    job_id, error)


def finish_job(services: Services, job_id: int, *, live_counters: bool = True) -> bool:
    """Complete the job if all its chunks are applied; return True if it completed now.

    ``live_counters``: whether the job may have live counters in Redis to drop.
    """
    with services.db.statement() as conn:
        completion = _complete(conn, job_id)
    return _after_completion(services, job_id, completion, live_counters=live_counters)


def _complete(conn: psycopg.Connection, job_id: int) -> bool | None:
    """Complete the job if all its chunks are applied: whether a webhook waits, else None."""
    # Whether a webhook waits is asked by the completing statement itself: one round trip
    # per job, where a transaction of the two statements took four.
    return jobs.finish_if_done(conn, job_id, returning=_WEBHOOK_PENDING)


# What the completing statement returns: whether job ``j`` has a webhook to send.
_WEBHOOK_PENDING = rendered(callbacks.pending_condition(sql.SQL("j.id")))


def _after_completion(services: Services, job_id: int, pending_webhook: bool | None, *,
                      live_counters: bool) -> bool:
    """Once a completion committed (``pending_webhook`` not None): drop the live counters,
    send the webhook. Return whether the job completed."""
    if pending_webhook is None:
        return False
    log.info("job %s completed", job_id)
    if live_counters:
        _quietly(services.progress.forget, job_id)
    webhooks.notify_job_ended(services, job_id, pending=pending_webhook)
    return True


def fail_job(services: Services, job_id: int, message: str) -> None:
    """Mark the job failed: it cannot go on. Its applied records stay applied."""
    with services.db.transaction() as conn:
        failed = jobs.fail_job(conn, job_id, message)
    if failed:
        log.error("job %s failed: %s", job_id, message)
        webhooks.notify_job_ended(services, job_id)


def evaluate_chunk(operation: Operation, apply: ApplyChunk, conn: psycopg.Connection,
                   context: ChunkContext, records: list[Any], first: int, count: int, *,
                   base: int = 0) -> tuple[list[dict], list[dict]]:
    """Validate and apply records [first, first+count); return (successful, failed) entries.

    ``records`` are the request's (``base`` 0) or a bulk chunk's (``base``, the index of its
    first record); a unique value is looked for again among them only.
    """
    unique = operation.unique_field
    first_seen = _first_index_of_each(records, unique, base) if unique else {}
    load = operation.load
    valid: list[ValidRecord] = []
    failures: list[Outcome] = []
    for index in range(first, first + count):
        record = records[index - base]
        if type(record) is Unreadable:
            failures.append(Outcome.failed(index, INVALID_PAYLOAD, record.reason))
            continue
        # A record repeating an earlier one's unique value (in any chunk of the request).
        duplicate_of = first_seen.get(_unique_value(record, unique), index) if unique else index
        if duplicate_of != index:
            failures.append(Outcome.failed(index, INVALID_VALUE, (
                f"{unique}: Duplicate of the record at index {duplicate_of}; "
                "each appears once per request, the first one is applied.")))
            continue
        try:
            valid.append(ValidRecord(index, load(record)))
        except ValidationError as error:
            failures.append(Outcome.failed(index, validation_code(error.messages),
                                           error_line(error.messages)))
    applied = _apply_isolating_failures(operation.name, apply, conn, context, valid) if valid else []
    applied.sort(key=_INDEX)  # in the request's order (already, from every apply here)
    successful = []
    for outcome in applied:
        if outcome.ok:
            entry = _entry(records, base, operation, outcome, "message")
            if outcome.details:  # (a balance, the points applied) after the seed's three fields
                entry.update(outcome.details)
            successful.append(entry)
        else:
            failures.append(outcome)
    failures.sort(key=_INDEX)
    return successful, _entries(records, base, operation, failures)


_INDEX = itemgetter(0)  # an Outcome's index


def _entry(records: list[Any], base: int, operation: Operation, outcome: Outcome,
           label: str) -> dict:
    """Return the status body's entry for one outcome, its message under ``label``."""
    return {operation.key_field: operation.key_of(records[outcome.index - base]),
            "index": outcome.index, label: outcome.message}


def _entries(records: list[Any], base: int, operation: Operation, failures: list[Outcome]
             ) -> list[dict]:
    """Return the status body's ``failed`` entries for these outcomes, with their codes."""
    return [{**_entry(records, base, operation, o, "error"), "code": o.code.code}
            for o in failures]


_REQUIRED = fields.Field.default_error_messages["required"]


def validation_code(messages: Any) -> ErrorCode:
    """Return the code of a record its schema refused: 3000 if a required field is missing,
    9007 if its transaction time is not valid, else 3003 (a value not valid)."""
    if any(line == _REQUIRED or line.endswith(f": {_REQUIRED}")
           for line in flatten_errors(messages)):
        return MISSING_ARGUMENTS
    if isinstance(messages, dict) and "transactionTime" in messages:
        return INVALID_TRANSACTION_TIME
    return INVALID_VALUE


def _apply_isolating_failures(name: str, apply: ApplyChunk, conn: psycopg.Connection,
                              context: ChunkContext, valid: Sequence[ValidRecord]) -> list[Outcome]:
    """Apply set-based; if that raises, apply one record at a time to find the bad ones.

    Each attempt runs in a savepoint, so a failed attempt leaves the chunk's transaction
    usable. Transient errors are not a record's fault: they propagate and the whole chunk
    is retried.
    """
    try:
        with conn.transaction():
            return apply(conn, context, valid)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - any other failure is isolated to its records
        if len(valid) == 1:
            log.warning("record %s of a %s chunk failed to apply: %r",
                        valid[0].index, name, error)
            return [Outcome.failed(valid[0].index, UNEXPECTED, _apply_error_message(error))]
        log.warning("%s chunk failed set-based (%r); applying its %d records one by one",
                    name, error, len(valid))
        return [outcome for record in valid
                for outcome in _apply_isolating_failures(name, apply, conn, context, [record])]


def _apply_error_message(error: Exception) -> str:
    if isinstance(error, psycopg.Error) and error.diag.message_primary:
        return f"record: Could not be stored: {error.diag.message_primary}."
    return "record: Could not be applied because of an internal error; it has been logged."


def _first_index_of_each(records: list[Any], field: str, base: int) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, record in enumerate(records, start=base):
        value = _unique_value(record, field)
        if value is not None:
            first.setdefault(value, index)
    return first


def _unique_value(record: Any, field: str) -> str | None:
    """Return the record's text under ``field``, what duplicates are told apart by; else None."""
    value = record.get(field) if type(record) is dict else None
    return value if type(value) is str else None


def _count_chunk(services: Services, job_id: int, chunk_no: int, report: ChunkReport) -> None:
    """Add a committed chunk to the live counters, rebuilding them if Redis lost them."""
    if report.skipped_because not in (None, "already applied"):
        return
    try:
        counted = services.progress.add_chunk(job_id, chunk_no, report.finished_count,
                                              report.error_count)
        if counted < 0:
            with services.db.transaction() as conn:
                done = jobs.done_chunks(conn, job_id, with_outcomes=False)
            _rebuild_progress(services, job_id, done)
            services.progress.add_chunk(job_id, chunk_no, report.finished_count,
                                        report.error_count)
    except redis.RedisError as error:
        # The figures are committed in PostgreSQL; GET falls back to them.
        log.warning("live counters of job %s not updated: %s", job_id, error)


def _rebuild_progress(services: Services, job_id: int, done: list[jobs.DoneChunk]) -> None:
    _quietly(services.progress.rebuild, job_id,
             [(c.chunk_no, c.finished_count, c.error_count) for c in done])


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except redis.RedisError as error:
        log.warning("redis unavailable for %s: %s", function.__name__, error)
