"""A job's unprocessed records: those of its chunks never applied (it was stopped, or failed),
read back, with their index, from where the request or the upload stored them.

A request's job keeps its records as one array (a job stopped while queued has no chunk
rows yet: all its records are unprocessed); a bulk job's unapplied chunk reads its block.
Each entry gives the record as it was sent (a CSV row as the record it makes), or, for a line
that makes no record, the line itself. The chunks are read a few at a time, each batch in a
statement of its own, so that a long listing holds no connection between batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from app.catalogue import Operation, get_operation
from app.domain.block_records import Unreadable, block_records
from app.store import jobs, uploads
from app.store.db import Database
from app.store.results import UnappliedChunk, unapplied_chunks

# Chunks read per statement: a bulk chunk parses its block (CHUNK_SIZE lines) to list it.
CHUNKS_PER_BATCH = 8


def unprocessed_entries(db: Database, job: jobs.Job, *, after_index: int = -1
                        ) -> Iterator[dict[str, Any]]:
    """Yield the job's unprocessed records after ``after_index``, in index order."""
    operation = get_operation(job.operation)
    if job.results_purged_at is not None or job.status == jobs.OPEN:
        return  # its records were purged, or are not numbered yet
    if not job.bulk and job.started_at is None:  # never split: every record waits
        whole = UnappliedChunk(0, 0, job.total_count, None, None)
        yield from _entries(db, job, operation, [whole], after_index)
        return
    after_chunk = -1
    while True:
        with db.statement() as conn:
            chunks = unapplied_chunks(conn, job.id, after_index=after_index,
                                      after_chunk=after_chunk, limit=CHUNKS_PER_BATCH)
        if not chunks:
            return
        yield from _entries(db, job, operation, chunks, after_index)
        after_chunk = chunks[-1].chunk_no


def _entries(db: Database, job: jobs.Job, operation: Operation, chunks: list[UnappliedChunk],
             after_index: int) -> Iterator[dict[str, Any]]:
    request_records = None
    for chunk in chunks:
        if chunk.part_no is None:
            if request_records is None:
                with db.statement() as conn:
                    request_records = orjson.loads(jobs.stored_records(conn, job.id))
            records, base = request_records, 0
        else:
            with db.statement() as conn:
                block = uploads.read_block(conn, job.id, chunk.part_no, chunk.block_no)
            records, base = block_records(block, operation), chunk.first_index
        for index in range(max(chunk.first_index, after_index + 1),
                           chunk.first_index + chunk.record_count):
            yield _entry(operation, index, records[index - base])


def _entry(operation: Operation, index: int, record: Any) -> dict[str, Any]:
    key = operation.key_field
    if type(record) is Unreadable:
        return {key: None, "index": index, "record": None, "line": record.line}
    return {key: operation.key_of(record), "index": index, "record": record}
