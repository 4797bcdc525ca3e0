"""The job repository: every SQL statement about batch jobs and their chunks.

Locking protocol (what makes stop and redelivery safe):
- a chunk transaction holds ``FOR SHARE`` on its job row from its first statement to its
  commit, and ``FOR UPDATE`` on its chunk row;
- stopping a job takes ``FOR UPDATE`` on the job row, so it waits for the chunks being
  applied right now, and every chunk that starts after it sees ``stopped`` and applies
  nothing. The counts a stop answers are therefore final;
- a chunk row with ``done_at`` set is never applied again, so a message delivered twice
  changes nothing.
- a chunk row another transaction holds is skipped, not waited for (``SKIP LOCKED``): a
  duplicate delivery never sits on its job's share lock.
Chunk transactions write the job row only to complete a job of one chunk, whose chunk
transaction is the job's only one (two of them holding FOR SHARE and both upgrading would
deadlock; a duplicate delivery of that chunk skips it instead of waiting). Otherwise the
job's figures are summed from its chunks.

Records are stored as the JSON array the request sent (see app/web/batch_body.py), or, for a
bulk job, as the blocks of raw lines its upload was cut into (``app.store.uploads``: a bulk
job's chunk is one block); outcomes as the JSON bytes orjson writes; all as ``bytea``, read
back in binary: PostgreSQL keeps them without parsing them (see migration 0007).

A chunk row's ``sent_at`` says its message went out. A request's job sends all its chunks
when it starts; a bulk job keeps a window of them in flight, sending the next as one is
applied (``claim_unsent_chunks``), so that the bulk jobs in the queue take turns. What the
sweeper and a stop look at is the chunks sent and not applied (``in_flight_chunks``).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Literal

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import class_row, kwargs_row
from psycopg.types.numeric import Int4

from app.store.statements import rendered

UNFINISHED = ("queued", "running")
# A multi-part upload not closed yet: nothing runs it, and its records have no index yet.
OPEN = "open"
FINISHED = ("completed", "failed", "stopped")

# Added to the WHERE of a statement that starts a job: its transaction then commits without
# waiting for its WAL to reach the disk (``synchronous_commit`` off for that transaction
# only). Safe for a job's start, and only there: what it writes is flushed by the next
# synchronous commit of any session (the chunk's attempt, committed before any record is
# applied, at the latest). If PostgreSQL itself crashes before, the job is simply queued
# again, its attempt uncounted, as if its start message had not arrived yet: redelivered
# or swept, it starts then. A worker that dies loses nothing: the commit is PostgreSQL's.
# Each such commit spares the worker a wait for the disk, on which its core would idle.
COMMIT_WITHOUT_FLUSH = sql.SQL("set_config('synchronous_commit', 'off', true) IS NOT NULL")


# Job ids are random integers below 2**53: what JavaScript's numbers hold exactly.
MAX_JOB_ID = 2**53 - 1
# Draws of a new id before giving up: with 2**53 ids, a second draw is already astronomical.
_ID_DRAWS = 8


@dataclass(frozen=True)
class Job:
    """A batch job row."""

    id: int
    tenant_id: int
    operation: str
    status: str
    total_count: int
    finished_count: int
    error_count: int
    failure_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # Set once retention purged the per-record results; the figures above stay.
    results_purged_at: datetime | None = None
    # Uploaded as NDJSON or CSV (app.store.uploads), not sent as a JSON request.
    bulk: bool = False


@dataclass(frozen=True)
class DoneChunk:
    """A chunk whose outcomes are committed."""

    chunk_no: int
    finished_count: int
    error_count: int
    successful: list[dict] | None
    failed: list[dict] | None


@dataclass(frozen=True)
class Records:
    """A job's records as stored: one JSON array's bytes, and how many objects it holds."""

    json: bytes
    count: int

    @classmethod
    def of(cls, records: list) -> Records:
        """Return ``records`` as orjson writes them."""
        return cls(orjson.dumps(records), len(records))

    def parsed(self) -> list[dict]:
        """Return the records as Python objects (only what needs them pays for them)."""
        return orjson.loads(self.json)


@dataclass(frozen=True)
class ChunkRange:
    """Which records a chunk covers, and for a bulk job the block that holds them."""

    chunk_no: int
    first_index: int
    record_count: int
    part_no: int | None = None
    block_no: int | None = None


def select_list(names: Iterable[str], table: str | None = None, alias_prefix: str = ""
                ) -> sql.Composed:
    """Return ``table.name, ...`` for ``names``; with ``alias_prefix``, each ``AS prefix_name``
    (for a statement that reads several tables' columns into one row, by name)."""
    columns = []
    for name in names:
        column = sql.Identifier(table, name) if table else sql.Identifier(name)
        if alias_prefix:
            column = sql.SQL("{} AS {}").format(column, sql.Identifier(alias_prefix + name))
        columns.append(column)
    return sql.SQL(", ").join(columns)


JOB_FIELDS = tuple(column.name for column in fields(Job))
_JOB_COLUMNS = select_list(JOB_FIELDS)
_OUTCOME_FIELDS = ("successful", "failed")
DONE_CHUNK_FIELDS = ("chunk_no", "finished_count", "error_count", *_OUTCOME_FIELDS)

Lock = Literal["FOR UPDATE", "FOR SHARE", "FOR UPDATE NOWAIT"]


def done_chunk(chunk_no: int, finished_count: int, error_count: int,
               successful: bytes | None, failed: bytes | None) -> DoneChunk:
    """Return the DoneChunk of a chunk row's columns, its outcomes parsed (read in binary)."""
    return DoneChunk(chunk_no, finished_count, error_count, _from_json(successful),
                     _from_json(failed))


def new_job_id() -> int:
    """Return a fresh job id: random, from a cryptographic source, 1 to 2**53 - 1."""
    return secrets.randbelow(MAX_JOB_ID) + 1


def create_job(conn: psycopg.Connection, tenant_id: int, operation: str,
               records: list[dict]) -> int:
    """Store a queued job with its records; return its id (commit is the caller's)."""
    return store_job(conn, tenant_id, operation, Records.of(records))


def store_job(conn: psycopg.Connection, tenant_id: int, operation: str, records: Records) -> int:
    """Store a queued job with its records, as they are given (commit is the caller's)."""
    job_id = insert_job_row(conn, tenant_id, operation, records.count)
    conn.execute("INSERT INTO batch_job_records (job_id, records) VALUES (%s, %b)",
                 (job_id, records.json))
    return job_id


def insert_job_row(conn: psycopg.Connection, tenant_id: int, operation: str, total: int, *,
                   status: str = "queued", bulk: bool = False) -> int:
    """Insert a job under a new random id, drawing again on the rare collision."""
    for _ in range(_ID_DRAWS):
        row = conn.execute(
            "INSERT INTO batch_jobs (id, tenant_id, operation, total_count, status, bulk)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
            (new_job_id(), tenant_id, operation, total, status, bulk)).fetchone()
        if row is not None:
            return row[0]
    raise RuntimeError(f"{_ID_DRAWS} random job ids in a row were taken")


def id_of_legacy(conn: psycopg.Connection, legacy_id: str) -> int | None:
    """Return the id of the job known before the integer ids by ``legacy_id``, if any."""
    row = conn.execute("SELECT id FROM batch_jobs WHERE legacy_id = %s", (legacy_id,)).fetchone()
    return row[0] if row else None


def get_job(conn: psycopg.Connection, job_id: int, *, tenant_id: int | None = None,
            lock: Lock | None = None) -> Job | None:
    """Return the job, scoped to ``tenant_id`` when given, locked ``FOR`` ``lock`` if given."""
    params = (job_id,) if tenant_id is None else (job_id, tenant_id)
    with conn.cursor(row_factory=class_row(Job)) as cursor:
        return cursor.execute(_get_job_statement(tenant_id is not None, lock or ""),
                              params).fetchone()


@functools.cache
def _get_job_statement(scoped: bool, lock: str) -> sql.SQL:
    """Return get_job's statement for a tenant's job or any, with the lock asked (or none)."""
    conditions = [sql.SQL("id = %s")] + ([sql.SQL("tenant_id = %s")] if scoped else [])
    return rendered(sql.SQL("SELECT {} FROM batch_jobs WHERE {} {}").format(
        _JOB_COLUMNS, sql.SQL(" AND ").join(conditions), sql.SQL(lock)))  # type: ignore[arg-type]


def done_chunks(conn: psycopg.Connection, job_id: int, *, with_outcomes: bool = True
                ) -> list[DoneChunk]:
    """Return the job's committed chunks in order (without their outcomes, if told)."""
    with conn.cursor(row_factory=kwargs_row(done_chunk), binary=True) as cursor:
        return cursor.execute(_DONE_CHUNKS[with_outcomes], (job_id,)).fetchall()


# done_chunks' statement, with the outcomes or without them.
_DONE_CHUNKS = {
    with_outcomes: rendered(sql.SQL(
        "SELECT {}, {} FROM batch_chunks WHERE job_id = %s AND done_at IS NOT NULL"
        " ORDER BY chunk_no").format(
            select_list(DONE_CHUNK_FIELDS[:3]),
            select_list(_OUTCOME_FIELDS) if with_outcomes
            else sql.SQL("NULL AS successful, NULL AS failed")))
    for with_outcomes in (True, False)
}


def mark_running(conn: psycopg.Connection, job_id: int) -> Job | None:
    """Move a queued job to running; return the job as it is now (None if unknown).

    Its transaction commits without waiting for the flush (``COMMIT_WITHOUT_FLUSH``).
    """
    with conn.cursor(row_factory=class_row(Job)) as cursor:
        job = cursor.execute(_MARK_RUNNING, (job_id,)).fetchone()
    if job is not None:
        return job
    # Not queued (a redelivered start, a stopped job): locked as the update would have.
    return get_job(conn, job_id, lock="FOR UPDATE")


_MARK_RUNNING = rendered(sql.SQL(
    "UPDATE batch_jobs SET status = 'running', started_at = now()"
    " WHERE id = %s AND status = 'queued' AND {} RETURNING {}").format(
        COMMIT_WITHOUT_FLUSH, _JOB_COLUMNS))


def split_into_chunks(conn: psycopg.Connection, job_id: int, total: int, chunk_size: int
                      ) -> tuple[list[int], list[DoneChunk]]:
    """Create the job's chunk rows once; return its pending chunks and its applied ones.

    A second call, with any size, creates nothing: it reads the chunks the first made.
    One statement: the rows inserted by its first part are invisible to its own reads,
    so it returns them as inserted, or else (nothing inserted) the rows that exist.
    """
    rows = conn.execute(
        "WITH created AS ("
        " INSERT INTO batch_chunks (job_id, chunk_no, first_index, record_count, sent_at)"
        " SELECT %(job)s, n, n * %(size)s, least(%(size)s, %(total)s - n * %(size)s), now()"
        " FROM generate_series(0, (%(total)s - 1) / %(size)s) AS n"
        " WHERE %(total)s > 0 AND NOT EXISTS (SELECT 1 FROM batch_chunks WHERE job_id = %(job)s)"
        " ON CONFLICT DO NOTHING"
        " RETURNING chunk_no, done_at IS NOT NULL AS done, finished_count, error_count)"
        " SELECT * FROM created"
        " UNION ALL SELECT chunk_no, done_at IS NOT NULL, finished_count, error_count"
        " FROM batch_chunks WHERE job_id = %(job)s AND NOT EXISTS (SELECT 1 FROM created)"
        " ORDER BY chunk_no",
        {"job": job_id, "size": Int4(chunk_size), "total": Int4(total)}).fetchall()
    pending = [number for number, applied, _, _ in rows if not applied]
    done = [DoneChunk(number, finished, errors, None, None)
            for number, applied, finished, errors in rows if applied]
    return pending, done


def in_flight_chunks(conn: psycopg.Connection, job_id: int) -> list[int]:
    """Return the numbers of the job's chunks sent and not yet applied, in order."""
    rows = conn.execute("SELECT chunk_no FROM batch_chunks WHERE job_id = %s AND done_at IS NULL"
                        " AND sent_at IS NOT NULL ORDER BY chunk_no", (job_id,)).fetchall()
    return [row[0] for row in rows]


def claim_unsent_chunks(conn: psycopg.Connection, job_id: int, count: int) -> list[int]:
    """Mark up to ``count`` of the job's chunks not sent yet as sent; return them, in order.

    The caller sends them once its transaction committed. Rows another transaction is
    claiming are passed over (``SKIP LOCKED``): two chunks committing at once each claim a
    chunk of their own.
    """
    if count <= 0:
        return []
    rows = conn.execute(
        "UPDATE batch_chunks SET sent_at = now() WHERE (job_id, chunk_no) IN ("
        " SELECT job_id, chunk_no FROM batch_chunks"
        " WHERE job_id = %s AND done_at IS NULL AND sent_at IS NULL"
        " ORDER BY chunk_no LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING chunk_no",
        (job_id, count)).fetchall()
    return sorted(row[0] for row in rows)


def chunks_to_send(conn: psycopg.Connection, job_id: int, window: int) -> list[int]:
    """Return the job's chunks in flight, topped up to ``window`` with chunks not sent yet.

    What a job's (re)start and the sweeper send: every chunk sent and not applied (its
    message may be lost), and as many more as the window has room for. A request's job has
    every chunk sent from the start; a window of 0 claims none.
    """
    in_flight = in_flight_chunks(conn, job_id)
    return sorted(in_flight + claim_unsent_chunks(conn, job_id, window - len(in_flight)))


def lock_chunk(conn: psycopg.Connection, job_id: int, chunk_no: int
               ) -> tuple[ChunkRange, DoneChunk | None] | None:
    """Lock a chunk row; return its range and, if already applied, its figures.

    None if there is no such chunk, or if another delivery holds it: that one applies it,
    and this one, not waiting, holds its job's share lock no longer than it takes to see.
    """
    row = conn.execute(
        "SELECT first_index, record_count, part_no, block_no, done_at IS NOT NULL,"
        " finished_count, error_count"
        " FROM batch_chunks WHERE job_id = %s AND chunk_no = %s FOR UPDATE SKIP LOCKED",
        (job_id, chunk_no),
    ).fetchone()
    if row is None:
        return None
    first, count, part_no, block_no, done, finished, errors = row
    done_chunk = DoneChunk(chunk_no, finished, errors, None, None) if done else None
    return ChunkRange(chunk_no, first, count, part_no, block_no), done_chunk


def stored_records(conn: psycopg.Connection, job_id: int) -> bytes:
    """Return all records of a job, as submitted: one JSON array."""
    row = conn.execute("SELECT records FROM batch_job_records WHERE job_id = %s",
                       (job_id,), binary=True).fetchone()
    return row[0]


def complete_chunk(conn: psycopg.Connection, job_id: int, chunk_no: int,
                   successful: list[dict], failed: list[dict]) -> None:
    """Record a chunk's outcomes and mark it applied."""
    conn.execute(
        "UPDATE batch_chunks SET done_at = now(), finished_count = %s, error_count = %s,"
        " successful = %b, failed = %b WHERE job_id = %s AND chunk_no = %s",
        (len(successful), len(failed), orjson.dumps(successful), orjson.dumps(failed), job_id,
         chunk_no),
    )


def _from_json(stored: bytes | None) -> list[dict] | None:
    return None if stored is None else orjson.loads(stored)


# The figures of job ``j`` summed over its applied chunks, as (finished, errors): for
# UPDATE .. SET (a, b) = (..), and for the listing's running jobs.
CHUNK_SUMS = sql.SQL("(SELECT coalesce(sum(c.finished_count), 0)::int AS finished,"
                     " coalesce(sum(c.error_count), 0)::int AS errors"
                     " FROM batch_chunks c WHERE c.job_id = j.id AND c.done_at IS NOT NULL)")


def finish_if_done(conn: psycopg.Connection, job_id: int, *,
                   returning: sql.SQL = sql.SQL("true")) -> Any:
    """Complete a running job whose chunks are all applied; None unless it did now.

    Runs after the caller's chunk committed, in its own statement: whichever chunk commits
    last sees every chunk done, so exactly one caller completes the job. (A job of one
    chunk may complete in that chunk's transaction: there is no other chunk.) It returns the
    SQL expression ``returning`` over the completed job ``j``, asked in the same statement.
    """
    row = conn.execute(_finish_statement(returning.as_string()), (job_id,)).fetchone()
    return None if row is None else row[0]


@functools.cache
def _finish_statement(returning: str) -> sql.SQL:
    """Return finish_if_done's statement, by the expression it returns."""
    return rendered(sql.SQL(
        "UPDATE batch_jobs j SET status = 'completed', finished_at = now(),"
        " (finished_count, error_count) = {}"
        " WHERE j.id = %s AND j.status = 'running'"
        " AND EXISTS (SELECT 1 FROM batch_chunks c WHERE c.job_id = j.id)"
        " AND NOT EXISTS (SELECT 1 FROM batch_chunks c WHERE c.job_id = j.id AND c.done_at IS NULL)"
        " RETURNING {}").format(CHUNK_SUMS, sql.SQL(returning)))  # type: ignore[arg-type]


def fail_job(conn: psycopg.Connection, job_id: int, message: str) -> bool:
    """Mark an unfinished job failed with ``message``, keeping the figures it reached."""
    return conn.execute(_FAIL_JOB, (message, job_id)).fetchone() is not None


_FAIL_JOB = rendered(sql.SQL(
    "UPDATE batch_jobs j SET status = 'failed', finished_at = now(), failure_message = %s,"
    " (finished_count, error_count) = {}"
    " WHERE j.id = %s AND j.status IN ('queued', 'running') RETURNING 1").format(CHUNK_SUMS))


@dataclass(frozen=True)
class StopResult:
    """What a stop found: the job (after the stop), whether it was refused, its chunks if asked."""

    job: Job | None
    refused: bool = False
    chunks: list[DoneChunk] = field(default_factory=list)


def stop_job(conn: psycopg.Connection, tenant_id: int | None, job_id: int, *,
             chunks_up_to: int = 0) -> StopResult:
    """Stop an unfinished job (of ``tenant_id``, or any); its counts are final once committed.

    ``FOR UPDATE`` waits for chunks being applied now; chunks that start later see the
    job stopped. A stopped job answers as it is; a completed or failed one is refused.
    The applied chunks of a job of at most ``chunks_up_to`` records are read too, with
    their outcomes, under the same lock (a larger job's outcomes are its result files').
    """
    job = get_job(conn, job_id, tenant_id=tenant_id, lock="FOR UPDATE")
    if job is None:
        return StopResult(None)
    if job.status in ("completed", "failed"):
        return StopResult(job, refused=True)
    if job.status != "stopped":
        conn.execute(_STOP, (job_id,))
        job = get_job(conn, job_id)
    with_chunks = job.total_count <= chunks_up_to
    return StopResult(job, chunks=done_chunks(conn, job_id) if with_chunks else [])


_STOP = rendered(sql.SQL(
    "UPDATE batch_jobs j SET status = 'stopped', finished_at = now(),"
    " (finished_count, error_count) = {} WHERE j.id = %s").format(CHUNK_SUMS))


def claim_stalled_jobs(conn: psycopg.Connection, older_than_seconds: int, limit: int = 100
                       ) -> list[tuple[int, str, bool]]:
    """Stamp and return (job id, status, bulk) of unfinished jobs with no progress for that long.

    Progress is the job's creation, start, last sweep, or any chunk attempted or applied.
    Stamping ``swept_at`` makes the next sweep wait a whole period before sending the same
    job again; ``SKIP LOCKED`` passes over jobs whose chunks hold their row (busy, so not
    stalled) and over jobs another sweeper is claiming.
    """
    rows = conn.execute(
        "UPDATE batch_jobs SET swept_at = now() WHERE id IN ("
        " SELECT j.id FROM batch_jobs j"
        " WHERE j.status IN ('queued', 'running')"
        " AND greatest(j.created_at, j.started_at, j.swept_at,"
        "   (SELECT max(greatest(c.done_at, c.attempted_at)) FROM batch_chunks c"
        "    WHERE c.job_id = j.id))"
        "   < now() - make_interval(secs => %s)"
        " ORDER BY j.created_at LIMIT %s FOR NO KEY UPDATE SKIP LOCKED)"
        " RETURNING id, status, bulk",
        (older_than_seconds, limit),
    ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


def bulk_among(conn: psycopg.Connection, job_ids: Iterable[int]) -> set[int]:
    """Return which of these jobs are bulk jobs."""
    ids = list(job_ids)
    if not ids:
        return set()
    rows = conn.execute("SELECT id FROM batch_jobs WHERE id = ANY(%s) AND bulk", (ids,))
    return {row[0] for row in rows}


def claim_orphaned_chunks(conn: psycopg.Connection, older_than_seconds: int, limit: int = 100
                          ) -> dict[int, list[int]]:
    """Stamp and return, by job, the chunks whose last delivery was lost mid-chunk.

    Such a chunk belongs to a running job, is not applied, had a delivery begin (its attempt
    is counted before the chunk's transaction) and neither that delivery nor the sweeper has
    touched it for that long, and no transaction holds its row (``SKIP LOCKED``): a chunk
    being applied holds it until commit, and a worker cut off holds it until the server
    drops its connection. The job's other chunks may be making progress meanwhile, which
    is why a job-level stall cannot see it. Stamping ``swept_at`` makes the next sweep wait
    a whole period before sending the same chunk again.
    """
    rows = conn.execute(
        "UPDATE batch_chunks c SET swept_at = now() FROM ("
        " SELECT c.job_id, c.chunk_no FROM batch_jobs j JOIN batch_chunks c ON c.job_id = j.id"
        " WHERE j.status = 'running' AND c.done_at IS NULL"
        " AND greatest(c.attempted_at, c.swept_at) < now() - make_interval(secs => %s)"
        " ORDER BY c.attempted_at LIMIT %s FOR NO KEY UPDATE OF c SKIP LOCKED) lost"
        " WHERE (c.job_id, c.chunk_no) = (lost.job_id, lost.chunk_no)"
        " RETURNING c.job_id, c.chunk_no",
        (older_than_seconds, limit),
    ).fetchall()
    chunks: dict[int, list[int]] = {}
    for job_id, chunk_no in sorted(rows):
        chunks.setdefault(job_id, []).append(chunk_no)
    return chunks


def purge_results(conn: psycopg.Connection, older_than_days: int, limit: int) -> list[int]:
    """Delete the per-record results of up to ``limit`` jobs finished that long ago.

    The job row (status, counts, timestamps) stays, stamped ``results_purged_at``; its
    records as submitted (or uploaded) and its chunks (which hold the outcomes) go. Return
    the jobs' ids.
    """
    rows = conn.execute(
        "UPDATE batch_jobs SET results_purged_at = now() WHERE id IN ("
        " SELECT id FROM batch_jobs"
        " WHERE finished_at < now() - make_interval(days => %s) AND results_purged_at IS NULL"
        " AND status = ANY(%s) ORDER BY finished_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        " RETURNING id",
        (older_than_days, list(FINISHED), limit),
    ).fetchall()
    ids = [row[0] for row in rows]
    if ids:
        conn.execute("DELETE FROM batch_chunks WHERE job_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM batch_job_records WHERE job_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM batch_parts WHERE job_id = ANY(%s)", (ids,))
    return ids


@dataclass(frozen=True)
class Attempt:
    """A delivery of a chunk: its attempt number, the previous error, whether already applied."""

    number: int
    last_error: str | None
    applied: bool = False


def begin_chunk_attempt(conn: psycopg.Connection, job_id: int, chunk_no: int
                        ) -> Attempt | None:
    """Count an attempt at a chunk not yet applied (an applied one is returned as it is).

    None if another delivery holds the chunk right now: it is being applied, and that
    delivery finishes it or, failing, is retried on its own; this one need not wait (a
    duplicate sent by the sweeper would otherwise idle a worker on the lock). Commit the
    attempt before applying the chunk: a worker killed mid-chunk still leaves it counted.
    """
    row = conn.execute(
        "UPDATE batch_chunks SET attempts = attempts + (done_at IS NULL)::int,"
        " attempted_at = CASE WHEN done_at IS NULL THEN now() ELSE attempted_at END"
        " WHERE (job_id, chunk_no) = (SELECT job_id, chunk_no FROM batch_chunks"
        "  WHERE job_id = %s AND chunk_no = %s FOR UPDATE SKIP LOCKED)"
        " RETURNING attempts, last_error, done_at IS NOT NULL",
        (job_id, chunk_no),
    ).fetchone()
    return Attempt(*row) if row else None


def note_chunk_error(conn: psycopg.Connection, job_id: int, chunk_no: int, error: str, *,
                     refund: bool) -> None:
    """Keep a chunk's last error; ``refund`` gives back the attempt (not the chunk's fault)."""
    conn.execute(
        "UPDATE batch_chunks SET last_error = %s, attempts = greatest(attempts - %s, 0)"
        " WHERE job_id = %s AND chunk_no = %s AND done_at IS NULL",
        (error, 1 if refund else 0, job_id, chunk_no),
    )


def begin_start_attempt(conn: psycopg.Connection, job_id: int) -> int | None:
    """Count an attempt at starting a queued job; None if it is not queued.

    Committed without waiting for the flush (``COMMIT_WITHOUT_FLUSH``): a worker killed
    while starting the job leaves the attempt counted all the same.
    """
    row = conn.execute(_BEGIN_START_ATTEMPT, (job_id,)).fetchone()
    return row[0] if row else None


_BEGIN_START_ATTEMPT = rendered(sql.SQL(
    "UPDATE batch_jobs SET start_attempts = start_attempts + 1"
    " WHERE id = %s AND status = 'queued' AND {} RETURNING start_attempts").format(
        COMMIT_WITHOUT_FLUSH))


def iso(moment: datetime | None) -> str | None:
    """Format a timestamp as ISO 8601 UTC with a ``Z``, to the millisecond."""
    if moment is None:
        return None
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
