"""A job's outcomes (successful or failed records) and its unprocessed records, read in index
order, a page or a batch of chunks at a time.

Outcomes live in their chunk rows as JSON arrays (stored as bytes) in record order, and a
job's chunks in ``chunk_no`` order cover its records in index order: reading chunks in that
order, and each one's entries in theirs, gives the records in index order without sorting
a job's millions of them. A page is cut after the last record ``index`` a client has seen (a
keyset, not an offset); a file is read a few chunks at a time, each batch in a statement of
its own (no transaction stays open while a client downloads slowly). Chunks commit in any
order, so a client reading while the job runs may pass records that commit later: the lists
are complete once the job has ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import class_row

SIDES = ("successful", "failed")


def outcomes_page(conn: psycopg.Connection, job_id: int, side: str, *, after_index: int,
                  limit: int) -> list[dict]:
    """Return up to ``limit`` outcomes of ``side`` with an index above ``after_index``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    query = sql.SQL(
        "SELECT e.value FROM batch_chunks c"
        " CROSS JOIN LATERAL json_array_elements(convert_from(c.{side}, 'UTF8')::json)"
        "  WITH ORDINALITY e"
        " WHERE c.job_id = %s AND c.done_at IS NOT NULL"
        # Chunks wholly at or before the cursor are skipped without reading their arrays.
        " AND c.first_index + c.record_count - 1 > %s"
        " AND (e.value->>'index')::int > %s"
        " ORDER BY c.chunk_no, e.ordinality LIMIT %s"
    ).format(side=sql.Identifier(side))
    rows = conn.execute(query, (job_id, after_index, after_index, limit)).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class ChunkOutcomes:
    """One side of a committed chunk's outcomes, as stored (a JSON array's bytes)."""

    chunk_no: int
    outcomes: bytes


def outcome_batch(conn: psycopg.Connection, job_id: int, side: str, *, after_chunk: int,
                  limit: int) -> list[ChunkOutcomes]:
    """Return one side of up to ``limit`` committed chunks after chunk ``after_chunk``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    query = sql.SQL("SELECT chunk_no, {side} AS outcomes FROM batch_chunks"
                    " WHERE job_id = %s AND chunk_no > %s AND done_at IS NOT NULL"
                    " ORDER BY chunk_no LIMIT %s").format(side=sql.Identifier(side))
    with conn.cursor(row_factory=class_row(ChunkOutcomes), binary=True) as cursor:
        return cursor.execute(query, (job_id, after_chunk, limit)).fetchall()


@dataclass(frozen=True)
class UnappliedChunk:
    """A chunk not applied: which records it covers and, for a bulk job, its block."""

    chunk_no: int
    first_index: int
    record_count: int
    part_no: int | None
    block_no: int | None


def unapplied_chunks(conn: psycopg.Connection, job_id: int, *, after_index: int = -1,
                     after_chunk: int = -1, limit: int) -> list[UnappliedChunk]:
    """Return up to ``limit`` of the job's chunks not applied, in order, after chunk
    ``after_chunk`` and holding a record after ``after_index``."""
    with conn.cursor(row_factory=class_row(UnappliedChunk)) as cursor:
        return cursor.execute(
            "SELECT chunk_no, first_index, record_count, part_no, block_no FROM batch_chunks"
            " WHERE job_id = %s AND done_at IS NULL AND chunk_no > %s"
            " AND first_index + record_count - 1 > %s ORDER BY chunk_no LIMIT %s",
            (job_id, after_chunk, after_index, limit)).fetchall()
