"""Reading records from NDJSON, JSON or CSV files of any size, one record at a time.

Nothing holds the whole file: NDJSON and CSV are read line by line, JSON is parsed
incrementally with ijson (a top-level array, or Gameball's ``{"body": [...]}``). A record
that cannot be read (a line that is not JSON, a value that is not an object) comes out as
an item with an ``error``, so it is reported with the others rather than stopping the run.
A CSV row becomes a record as the service makes one of an uploaded row: typed by the
operation's record schema (``schemas.csv_records``), so a file means the same either way.
Records are counted as the service counts an upload's: blank lines and rows are none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson
from marshmallow import Schema

from schemas.csv_records import CsvRecords, CsvRowError

FORMATS = ("ndjson", "json", "csv")
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json", ".csv": "csv"}


@dataclass(frozen=True)
class Item:
    """One record of the file: where it is, what it holds, or why it could not be read."""

    line: int              # its line (NDJSON, CSV) or 1-based position in the array (JSON)
    record: Any = None
    error: str | None = None


class UnreadableFile(Exception):
    """The file cannot be read past some point (broken JSON document, not UTF-8 CSV)."""


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it (for the upload progress bar)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        self.bytes_read += count or 0
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def detect_format(path: Path) -> str:
    """Return the format of ``path`` from its suffix, else from its first bytes."""
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    with path.open("rb") as file:
        head = file.read(64 * 1024).lstrip()
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        first_line = head.split(b"\n", 1)[0]
        try:
            orjson.loads(first_line)
            return "ndjson"
        except orjson.JSONDecodeError:
            return "json"
    return "csv"


def read_items(source: BinaryIO, fmt: str, schema: Schema | None = None) -> Iterator[Item]:
    """Yield the items of ``source`` read as ``fmt``; CSV cells are typed by ``schema`` (the
    operation's record schema; without one, every cell is text)."""
    if fmt == "ndjson":
        return _ndjson(source)
    if fmt == "json":
        return _json(source)
    if fmt == "csv":
        return _csv(source, schema or Schema())
    raise ValueError(f"format must be one of {FORMATS}")


def _object_or_error(line: int, value: Any) -> Item:
    if isinstance(value, dict):
        return Item(line, value)
    return Item(line, value, f"record: Must be a JSON object, not {type(value).__name__}.")


def _ndjson(source: BinaryIO) -> Iterator[Item]:
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            yield Item(number, raw.decode("utf-8", "replace").rstrip("\r\n"),
                       f"record: Not valid JSON: {error}.")
            continue
        yield _object_or_error(number, value)


def _json(source: BinaryIO) -> Iterator[Item]:
    buffered = io.BufferedReader(source) if not hasattr(source, "peek") else source
    head = buffered.peek(64 * 1024).lstrip()[:1]
    prefix = "body.item" if head == b"{" else "item"
    try:
        for number, value in enumerate(ijson.items(buffered, prefix, use_float=True), start=1):
            yield _object_or_error(number, value)
    except ijson.JSONError as error:
        raise UnreadableFile(f"the JSON document breaks off: {error}") from None


def _csv(source: BinaryIO, schema: Schema) -> Iterator[Item]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            return
        records = CsvRecords(schema, [name.strip() for name in header])
        for row in reader:
            if not row:
                continue
            try:
                yield Item(reader.line_num, records.record(row))
            except CsvRowError as error:
                yield Item(reader.line_num, row, str(error))
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the CSV file is not UTF-8: {error}") from None
    finally:
        text.detach()
