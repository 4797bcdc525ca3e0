"""The records of an uploaded block: what a worker validates, and what ``/unprocessed`` lists.

A block holds raw lines (``app.store.uploads``): an NDJSON line is parsed here, a CSV row
(the JSON array of its cells) becomes a record by its part's header and the operation's
schema (``schemas.csv_records``); for an operation whose records are ids (a JSON string in
NDJSON), a CSV row's record is its key column's cell. A line that makes no record (not JSON,
a row whose cells do not match the header, a line the web could not keep) is an
``Unreadable``: its record fails with that reason, like any record its schema refuses, and
the upload goes on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from marshmallow import Schema

from app.catalogue import Operation
from app.store.uploads import StoredBlock
from schemas.csv_records import CsvRecords, CsvRowError


class Unreadable(NamedTuple):
    """A line that makes no record: why, and the line as text (None if it was not kept)."""

    reason: str
    line: str | None


def block_records(block: StoredBlock, operation: Operation) -> list[Any]:
    """Return the block's records, in order: each a JSON value, or an Unreadable."""
    lines = block.split()
    csv_records = None
    if block.format == "csv":
        csv_records = _csv_records(operation.schema, tuple(block.header))
    ids = not operation.takes_objects
    records: list[Any] = []
    for position, line in enumerate(lines):
        reason = block.rejected.get(position)
        if reason is not None:
            records.append(Unreadable(reason, None))
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            records.append(Unreadable(f"record: Not valid JSON: {error}.", _text(line)))
            continue
        if csv_records is not None:
            try:
                value = csv_records.record(value)
            except CsvRowError as error:
                records.append(Unreadable(str(error), _text(line)))
                continue
            if ids and operation.key_field in value:
                value = value[operation.key_field]
        records.append(value)
    return records


@lru_cache(maxsize=64)
def _csv_records(schema: Schema, header: tuple[str, ...]) -> CsvRecords:
    """Return the row reader for ``header``: typed once, used for each block of its part."""
    return CsvRecords(schema, header)


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")
