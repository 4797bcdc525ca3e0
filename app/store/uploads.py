"""Bulk uploads in PostgreSQL: open jobs, their parts, the blocks of raw lines, closing.

A bulk job's records arrive as NDJSON or CSV, in one streamed request or in numbered parts.
Each part is written as it arrives, ``CHUNK_SIZE`` lines to a row of ``batch_record_blocks``,
with one ``COPY`` per part: the web holds one block at a time, never the file. Closing the
upload numbers the records across the parts in part order and creates one chunk row per
block, which is what the workers then apply (``app.store.jobs``).

Locks: a part's transaction holds ``FOR SHARE`` on its open job, for as long as the part
streams in, and a transaction-level advisory lock on (job, part number), taken without
waiting, so that two requests never store the same part at once. Closing and discarding
take ``FOR UPDATE NOWAIT``: while a part streams in they are refused at once (a part is not
cut off by them, nor do they wait for a client's upload), and a part arriving after them
finds the job no longer open. A tenant's active bulk jobs are counted under an advisory lock
on the tenant, held only at the end of the transaction that adds one, so two uploads
finishing at once cannot both slip under ``BULK_MAX_ACTIVE_JOBS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson
import psycopg
from psycopg.rows import class_row

from app.store import jobs

# Statuses in which a bulk job counts against its tenant's BULK_MAX_ACTIVE_JOBS.
ACTIVE = (jobs.OPEN, *jobs.UNFINISHED)
PART_NUMBERS = range(1, 10_001)
# Advisory lock namespaces: the first key of the two-key form (the second is a hash).
_PART_LOCK, _TENANT_LOCK = 25_001, 25_002


@dataclass(frozen=True)
class Block:
    """Up to CHUNK_SIZE records of a part, as the lines the web cut them into.

    ``rejected``: by position in the block, why a line could not be kept (the line itself
    is stored empty); its record fails with that reason.
    """

    lines: list[bytes]
    rejected: dict[int, str] | None = None


@dataclass(frozen=True)
class Part:
    """A stored part: what it holds, and the SHA-256 of its bytes (hex)."""

    part_no: int
    format: str
    record_count: int
    byte_count: int
    sha256: str


@dataclass(frozen=True)
class StoredBlock:
    """A block as a worker (or a results file) reads it back, with its part's format."""

    format: str
    header: list[str] | None
    lines: bytes
    rejected: dict[int, str]

    def split(self) -> list[bytes]:
        """Return the block's lines."""
        return self.lines.split(b"\n")


class PartBusy(Exception):
    """Another request is storing the same part right now."""


def lift_statement_timeout(conn: psycopg.Connection) -> None:
    """Let this transaction's statements run without ``statement_timeout``: a part's COPY
    lasts as long as its body takes to arrive (an idle client is cut off by the web)."""
    conn.execute("SELECT set_config('statement_timeout', '0', true)")


def open_job(conn: psycopg.Connection, tenant_id: int, operation: str) -> int:
    """Insert an open bulk job (no records yet); return its id (commit is the caller's)."""
    return jobs.insert_job_row(conn, tenant_id, operation, 0, status=jobs.OPEN, bulk=True)


def active_bulk_jobs(conn: psycopg.Connection, tenant_id: int, *, locked: bool = False) -> int:
    """Return how many bulk jobs of the tenant are open, queued or running.

    ``locked``: first take the tenant's advisory lock, until the transaction ends, so that
    the count stays true until the caller's own job is committed.
    """
    if locked:
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                     (_TENANT_LOCK, str(tenant_id)))
    return conn.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s AND bulk"
                        " AND status = ANY(%s)", (tenant_id, list(ACTIVE))).fetchone()[0]


def lock_part(conn: psycopg.Connection, job_id: int, part_no: int) -> None:
    """Take the (job, part) lock for this transaction; raise PartBusy if another holds it."""
    taken = conn.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                         (_PART_LOCK, f"{job_id}:{part_no}")).fetchone()[0]
    if not taken:
        raise PartBusy(part_no)


def stored_records(conn: psycopg.Connection, job_id: int, *, besides: int | None = None) -> int:
    """Return how many records the job's parts hold (without part ``besides``, if given)."""
    return conn.execute("SELECT coalesce(sum(record_count), 0) FROM batch_parts"
                        " WHERE job_id = %s AND part_no IS DISTINCT FROM %s",
                        (job_id, besides)).fetchone()[0]


def stored_bytes(conn: psycopg.Connection, job_id: int, *, besides: int | None = None) -> int:
    """Return how many bytes the job's parts hold (without part ``besides``, if given)."""
    return conn.execute("SELECT coalesce(sum(byte_count), 0) FROM batch_parts"
                        " WHERE job_id = %s AND part_no IS DISTINCT FROM %s",
                        (job_id, besides)).fetchone()[0]


def begin_part(conn: psycopg.Connection, job_id: int, part_no: int, fmt: str,
               header: list[str] | None) -> None:
    """Replace part ``part_no`` of the job with an empty one, its blocks to follow."""
    conn.execute("DELETE FROM batch_parts WHERE job_id = %s AND part_no = %s", (job_id, part_no))
    conn.execute("INSERT INTO batch_parts (job_id, part_no, format, header, record_count,"
                 " byte_count, sha256) VALUES (%s, %s, %s, %s, 0, 0, '')",
                 (job_id, part_no, fmt, header))


def copy_blocks(conn: psycopg.Connection, job_id: int, part_no: int,
                blocks: Iterable[Block]) -> None:
    """Write the part's blocks with one COPY, each as it comes: one block in memory at a time.

    Whatever ``blocks`` raises (the body cut off, too large) ends the COPY, and the caller's
    transaction rolls back: no part is ever half stored.
    """
    with conn.cursor() as cursor, cursor.copy(
            "COPY batch_record_blocks (job_id, part_no, block_no, line_count, lines, rejected)"
            " FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "int4", "int4", "int4", "bytea", "bytea"])
        for block_no, block in enumerate(blocks):
            rejected = None
            if block.rejected:
                rejected = orjson.dumps({str(k): v for k, v in block.rejected.items()})
            copy.write_row((job_id, part_no, block_no, len(block.lines), b"\n".join(block.lines),
                            rejected))


def finish_part(conn: psycopg.Connection, job_id: int, part_no: int, *, records: int,
                size: int, sha256: bytes) -> Part:
    """Record what the part holds, once its blocks are written; return it."""
    row = conn.execute("UPDATE batch_parts SET record_count = %s, byte_count = %s, sha256 = %s,"
                       " stored_at = now() WHERE job_id = %s AND part_no = %s RETURNING format",
                       (records, size, sha256, job_id, part_no)).fetchone()
    return Part(part_no, row[0], records, size, sha256.hex())


def parts(conn: psycopg.Connection, job_id: int) -> list[Part]:
    """Return the job's stored parts, in part order."""
    with conn.cursor(row_factory=class_row(Part)) as cursor:
        return cursor.execute("SELECT part_no, format, record_count, byte_count,"
                              " encode(sha256, 'hex') AS sha256 FROM batch_parts"
                              " WHERE job_id = %s ORDER BY part_no", (job_id,)).fetchall()


def lock_open_job(conn: psycopg.Connection, job_id: int, tenant_id: int, *,
                  exclusive: bool) -> jobs.Job | None:
    """Lock the tenant's job: ``FOR UPDATE NOWAIT`` if ``exclusive`` (LockNotAvailable while
    a part streams in), else ``FOR SHARE``. None if the tenant has no such job."""
    return jobs.get_job(conn, job_id, tenant_id=tenant_id,
                        lock="FOR UPDATE NOWAIT" if exclusive else "FOR SHARE")


def close(conn: psycopg.Connection, job_id: int) -> int:
    """Number the open job's records across its parts and queue it; return its total.

    Records are numbered in part order, then line order; each block becomes one chunk (its
    number, its first record's index). The caller holds the job's lock and has checked
    that the total is within bounds.
    """
    conn.execute(
        "INSERT INTO batch_chunks (job_id, chunk_no, first_index, record_count, part_no,"
        " block_no)"
        " SELECT job_id, (row_number() OVER w - 1)::int, (sum(line_count) OVER w"
        "  - line_count)::int, line_count, part_no, block_no"
        " FROM batch_record_blocks WHERE job_id = %s WINDOW w AS (ORDER BY part_no, block_no)",
        (job_id,))
    total = stored_records(conn, job_id)
    conn.execute("UPDATE batch_jobs SET status = 'queued', total_count = %s"
                 " WHERE id = %s AND status = 'open'", (total, job_id))
    return total


def discard(conn: psycopg.Connection, job_id: int) -> None:
    """Discard an open job: its parts go, the job stays (its id is never reused), stopped."""
    conn.execute("DELETE FROM batch_parts WHERE job_id = %s", (job_id,))
    conn.execute("UPDATE batch_jobs SET status = 'stopped', finished_at = now()"
                 " WHERE id = %s AND status = 'open'", (job_id,))


def discard_expired(conn: psycopg.Connection, older_than_hours: int, limit: int) -> list[int]:
    """Discard up to ``limit`` open jobs opened that long ago; return their ids.

    A job a part is being stored into right now is passed over (``SKIP LOCKED``).
    """
    rows = conn.execute(
        "SELECT id FROM batch_jobs WHERE status = 'open'"
        " AND created_at < now() - make_interval(hours => %s)"
        " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (older_than_hours, limit)).fetchall()
    ids = [row[0] for row in rows]
    for job_id in ids:
        discard(conn, job_id)
    return ids


def read_block(conn: psycopg.Connection, job_id: int, part_no: int, block_no: int
               ) -> StoredBlock:
    """Return one block of the job, with its part's format and header."""
    row = conn.execute(
        "SELECT p.format, p.header, b.lines, b.rejected FROM batch_record_blocks b"
        " JOIN batch_parts p USING (job_id, part_no)"
        " WHERE b.job_id = %s AND b.part_no = %s AND b.block_no = %s",
        (job_id, part_no, block_no), binary=True).fetchone()
    fmt, header, lines, rejected = row
    return StoredBlock(fmt, header, bytes(lines),
                       {int(k): v for k, v in orjson.loads(rejected).items()} if rejected else {})
