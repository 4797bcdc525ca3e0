"""Cutting an uploaded part (NDJSON or CSV) into blocks of raw lines, as it arrives.

The web never parses a record: an NDJSON line is kept as its bytes, a CSV row as the JSON
array of its cells (the CSV module finds where a row ends, a quoted cell may hold line
breaks), and the worker that applies the block reads them. What the web cannot keep fails
its record, not the upload: a line longer than ``MAX_LINE_BYTES`` (its bytes are skipped,
never held), a CSV row the CSV module cannot read or that is not UTF-8. Blank lines hold no
record and are skipped; the records are counted, and indexed, without them.

Memory is bounded whatever comes in: the body is read ``READ_SIZE`` bytes at a time, and a
block of ``block_lines`` lines is handed on (to COPY) before the next is started.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from typing import BinaryIO

import orjson
from werkzeug.exceptions import RequestEntityTooLarge

from app.error_codes import BODY_TOO_LARGE, EXCEEDS_LIMITS, INVALID_PAYLOAD
from app.store.uploads import Block
from app.web.errors import ApiError

# Far above any record a schema takes (a customer's custom object is at most 16 KiB).
MAX_LINE_BYTES = 1 << 20
READ_SIZE = 1 << 18
CSV_MAX_COLUMNS = 1000
_BOM = b"\xef\xbb\xbf"


class _TooLong:
    """Stands for a line longer than MAX_LINE_BYTES, whose bytes were skipped."""


TOO_LONG = _TooLong()
TOO_LONG_MESSAGE = f"record: Longer than {MAX_LINE_BYTES} bytes; not read."


class PartReader:
    """One part's body, read as ``fmt`` ("ndjson" or "csv"), in blocks of ``block_lines``.

    ``max_records`` and ``max_bytes`` bound the part (422 and 413 past them). A body that
    ends before the ``length`` it announced was cut off (400): the server sees only its end.
    Once ``blocks()`` is exhausted, ``records``, ``size`` and ``sha256`` describe the part; a
    CSV part's ``header`` is read when the reader is made.
    """

    def __init__(self, stream: BinaryIO, fmt: str, *, block_lines: int, max_records: int,
                 max_bytes: int, length: int | None = None) -> None:
        self.fmt = fmt
        self.records = 0
        self.size = 0
        self._hash = hashlib.sha256()
        self._stream = stream
        self._block_lines = block_lines
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._length = length
        self._lines = self._raw_lines(keep_newline=fmt == "csv")
        self._rows = _CsvRows(self._lines) if fmt == "csv" else None
        self.header = self._read_header() if self._rows is not None else None

    @property
    def sha256(self) -> bytes:
        """The SHA-256 of the part's bytes, as sent."""
        return self._hash.digest()

    def blocks(self) -> Iterator[Block]:
        """Yield the part's records as blocks of at most ``block_lines`` lines."""
        lines: list[bytes] = []
        rejected: dict[int, str] = {}
        records = self._csv_lines() if self._rows is not None else self._ndjson_lines()
        for line in records:
            if isinstance(line, str):  # a reason: the line was not kept
                rejected[len(lines)] = line
                line = b""
            lines.append(line)
            self.records += 1
            if self.records > self._max_records:
                raise ApiError(EXCEEDS_LIMITS, f"The upload holds more than {self._max_records}"
                                               " records (BULK_MAX_RECORDS); nothing was stored.")
            if len(lines) == self._block_lines:
                yield Block(lines, rejected or None)
                lines, rejected = [], {}
        if lines:
            yield Block(lines, rejected or None)

    def _ndjson_lines(self) -> Iterator[bytes | str]:
        for line in self._lines:
            if line is TOO_LONG:
                yield TOO_LONG_MESSAGE
            elif line.strip():
                yield line[:-1] if line.endswith(b"\r") else line

    def _csv_lines(self) -> Iterator[bytes | str]:
        for row in self._rows:
            if isinstance(row, str):
                yield row
            elif row:  # a blank line is an empty row: no record
                try:
                    yield orjson.dumps(row)
                except orjson.JSONEncodeError:  # a cell that was not UTF-8
                    yield "record: Not valid UTF-8 text; not read."

    def _read_header(self) -> list[str]:
        """Read a CSV part's header: its first row that is not blank."""
        for row in self._rows:
            if isinstance(row, str):
                raise ApiError(INVALID_PAYLOAD, f"The CSV header row cannot be read: {row}")
            if row:
                return _checked_header(row)
        return []

    def _raw_lines(self, *, keep_newline: bool) -> Iterator[bytes | _TooLong]:
        """Yield the body's lines (with their newline if ``keep_newline``), or TOO_LONG."""
        carry = b""
        skipping = False  # inside a line too long: its bytes are dropped up to its end
        first = True
        while data := self._read():
            if first:
                data = data.removeprefix(_BOM)
                first = False
            pieces = data.split(b"\n")
            pieces[0] = carry + pieces[0]
            carry = pieces.pop()
            for piece in pieces:
                if skipping:
                    skipping = False
                    continue
                yield piece + b"\n" if keep_newline else piece
            if len(carry) > MAX_LINE_BYTES:
                if not skipping:
                    yield TOO_LONG
                skipping, carry = True, b""
        if carry and not skipping:
            yield carry

    def _read(self) -> bytes:
        """Read the next bytes of the body; b"" at its end."""
        try:
            data = self._stream.read(READ_SIZE)
        except RequestEntityTooLarge:
            raise self._too_large() from None
        except ApiError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever breaks while reading is the stream's
            raise ApiError(INVALID_PAYLOAD, f"The body could not be read ({error}); nothing was "
                                            "stored.") from None
        if not data and self._length is not None and self.size < self._length:
            raise ApiError(INVALID_PAYLOAD, f"The body ended after {self.size} of the "
                                            f"{self._length} bytes it announced (cut off); "
                                            "nothing was stored.")
        self.size += len(data)
        if self.size > self._max_bytes:
            raise self._too_large()
        self._hash.update(data)
        return data

    def _too_large(self) -> ApiError:
        return ApiError(BODY_TOO_LARGE, f"The upload is larger than {self._max_bytes} bytes; "
                                        "nothing was stored.")


class _CsvRows:
    """The CSV rows of the body's lines: each a list of cells, or a reason it has none.

    A line too long, or a row the CSV module refuses, becomes a reason and the reader
    starts afresh with the next line (``csv.reader`` resets itself after an error).
    """

    def __init__(self, lines: Iterator[bytes | _TooLong]) -> None:
        self._reader = csv.reader(_decoded(lines))

    def __iter__(self) -> Iterator[list[str] | str]:
        while True:
            try:
                yield next(self._reader)
            except StopIteration:
                return
            except _LineTooLong:
                yield TOO_LONG_MESSAGE
            except csv.Error as error:
                yield f"record: Not a readable CSV row: {error}."


class _LineTooLong(Exception):
    """Raised into the CSV reader for a line that was too long to keep."""


class _decoded:  # noqa: N801 - an iterator class used like a function
    """The lines as text for ``csv.reader``; a byte that is not UTF-8 is kept as a lone
    surrogate, which makes its row fail (not the upload) when its cells are written."""

    def __init__(self, lines: Iterator[bytes | _TooLong]) -> None:
        self._lines = lines

    def __iter__(self) -> _decoded:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if line is TOO_LONG:
            raise _LineTooLong
        return line.decode("utf-8", "surrogateescape")


def _checked_header(row: list[str]) -> list[str]:
    """Return a CSV header's field names; 400 if one is empty, repeated or not UTF-8."""
    if len(row) > CSV_MAX_COLUMNS:
        raise ApiError(INVALID_PAYLOAD, f"The CSV header names {len(row)} columns; at most "
                                        f"{CSV_MAX_COLUMNS}.")
    names = [name.strip() for name in row]
    seen: set[str] = set()
    for number, name in enumerate(names, start=1):
        problem = None
        if not name:
            problem = "has no name"
        elif name in seen:
            problem = f"repeats {name!r}"
        elif not name.isprintable() or _surrogates(name):
            problem = "is not printable UTF-8 text"
        if problem:
            raise ApiError(INVALID_PAYLOAD, f"The CSV header's column {number} {problem}; "
                                            "each column needs a name of its own.")
        seen.add(name)
    return names


def _surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
