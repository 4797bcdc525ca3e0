"""A job's outcomes, or its unprocessed records, as one file: NDJSON or CSV, in index order.

Asked for by ``Accept`` on the results paths. The file is written as it is read, a few chunks
at a time (``app.store.results``, ``app.domain.unprocessed``), and sent as it is written
(a generator under ``stream_with_context``): a million entries cost the web the memory of a
few chunks, and no connection or transaction is held while the client reads.

Every entry names its record's index (its 0-based position in the request or upload) and
key. NDJSON lines are the entries as the JSON pages give them; CSV columns are fixed per
side: ``index,<key>,message,details`` (details: the entry's other fields, as JSON),
``index,<key>,code,error``, and ``index,<key>,record,line`` (the record as JSON; ``line``, a
line that made no record).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from flask import Response, request, stream_with_context

from app.domain.unprocessed import unprocessed_entries
from app.services import Services
from app.store import jobs
from app.store.results import outcome_batch

JSON = "application/json"
FILE_TYPES = {"application/x-ndjson": "ndjson", "text/csv": "csv"}
# Chunks read per statement for an outcomes file.
CHUNKS_PER_BATCH = 16


def requested_format() -> str | None:
    """Return the file format the request's Accept prefers, or None for JSON pages."""
    best = request.accept_mimetypes.best_match([JSON, *FILE_TYPES], default=JSON)
    return FILE_TYPES.get(best)


def file_response(services: Services, job: jobs.Job, side: str, key: str, fmt: str
                  ) -> Response:
    """Return every entry of ``side`` of the job as a file of ``fmt``, streamed."""
    entries = (unprocessed_entries(services.db, job) if side == "unprocessed"
               else _outcomes(services, job, side))
    if fmt == "ndjson":
        body, mimetype = _ndjson(entries), "application/x-ndjson"
    else:
        body, mimetype = _csv(entries, side, key), "text/csv"
    disposition = f'attachment; filename="job-{job.id}-{side}.{fmt}"'
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": disposition})


def _outcomes(services: Services, job: jobs.Job, side: str) -> Iterator[dict[str, Any]]:
    """Yield one side of the job's outcomes, chunk after chunk, in index order."""
    if job.results_purged_at is not None:
        return
    after = -1
    while True:
        with services.db.statement() as conn:
            batch = outcome_batch(conn, job.id, side, after_chunk=after, limit=CHUNKS_PER_BATCH)
        if not batch:
            return
        for chunk in batch:
            yield from orjson.loads(chunk.outcomes)
        after = batch[-1].chunk_no


def _ndjson(entries: Iterable[dict]) -> Iterator[bytes]:
    lines = []
    for entry in entries:
        lines.append(orjson.dumps(entry))
        if len(lines) == 1000:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n"


# Per side: the CSV columns after index and the key, and how an entry fills them.
_COLUMNS = {"successful": ("message", "details"), "failed": ("code", "error"),
            "unprocessed": ("record", "line")}


def _csv(entries: Iterable[dict], side: str, key: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("index", key, *_COLUMNS[side]))
    for count, entry in enumerate(entries, start=1):
        writer.writerow((entry["index"], _cell(entry.get(key)), *_cells(entry, side, key)))
        if count % 1000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _cells(entry: dict, side: str, key: str) -> tuple:
    if side == "successful":
        details = {k: v for k, v in entry.items() if k not in (key, "index", "message")}
        return entry["message"], orjson.dumps(details).decode() if details else ""
    if side == "failed":
        return entry.get("code", ""), entry["error"]
    record = entry["record"]
    return "" if record is None else orjson.dumps(record).decode(), _cell(entry.get("line"))


def _cell(value: Any) -> Any:
    return "" if value is None else value
