"""A file cut into the parts of a multi-part upload: NDJSON or CSV bodies of about
``part_size`` bytes, each ending at a record's end, the same parts every time for the same
file and size (which is what lets an interrupted upload resume: a part the service holds
with the same SHA-256 is not sent again).

An NDJSON file is cut at the first line end past each ``part_size`` bytes, and its parts
are read from the file itself. A CSV file is read row by row (a quoted cell may hold line
breaks) and each part is written to a temporary file, with the header row first; a JSON file
(an array, or ``{"body": [...]}``) becomes NDJSON parts the same way. Nothing holds the file:
a part is on disk, and read in blocks when sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import orjson

from batchq_cli.readers import CountingReader, UnreadableFile

CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}
READ_SIZE = 1 << 20


@dataclass
class Part:
    """One part: where its bytes are, how many, their SHA-256, and the input bytes it covers."""

    number: int
    path: Path
    offset: int
    size: int
    input_bytes: int
    content_type: str
    _sha256: str | None = field(default=None, repr=False)

    def chunks(self) -> Iterator[bytes]:
        """Yield the part's bytes, a block at a time."""
        with self.path.open("rb") as file:
            file.seek(self.offset)
            left = self.size
            while left:
                data = file.read(min(READ_SIZE, left))
                if not data:
                    raise OSError(f"{self.path} changed while being sent")
                left -= len(data)
                yield data

    @property
    def sha256(self) -> str:
        """The SHA-256 of the part's bytes, in hex (read once, when first asked)."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            for data in self.chunks():
                digest.update(data)
            self._sha256 = digest.hexdigest()
        return self._sha256


class PartFiles:
    """The parts of ``path`` read as ``fmt``; temporary files are removed on ``close``."""

    def __init__(self, path: Path, fmt: str, part_size: int) -> None:
        self.path, self.fmt, self.part_size = path, fmt, part_size
        self._spool = tempfile.TemporaryDirectory(prefix="batchq-parts-")

    def __enter__(self) -> PartFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._spool.cleanup()

    def __iter__(self) -> Iterator[Part]:
        if self.fmt == "ndjson":
            return self._ndjson()
        if self.fmt == "csv":
            return self._csv()
        return self._json()

    def _ndjson(self) -> Iterator[Part]:
        size = self.path.stat().st_size
        with self.path.open("rb") as file:
            start, number = 0, 1
            while start < size:
                file.seek(min(start + self.part_size, size) - 1)
                file.readline()  # to the end of the line the part's last byte is in
                end = file.tell()
                yield Part(number, self.path, start, end - start, end - start,
                           CONTENT_TYPES["ndjson"])
                start, number = end, number + 1

    def _csv(self) -> Iterator[Part]:
        with self.path.open("rb") as raw:
            counting = CountingReader(raw)
            # A byte that is not UTF-8 is written back as it came: the service fails its row.
            text = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8-sig",
                                    errors="surrogateescape", newline="")
            rows = csv.reader(text)
            header = next(rows, None)
            if header is not None:
                yield from self._spooled(counting, "csv", rows, _csv_rows, header=header)

    def _json(self) -> Iterator[Part]:
        with self.path.open("rb") as raw:
            counting = CountingReader(raw)
            buffered = io.BufferedReader(counting)
            head = buffered.peek(64 * 1024).lstrip()[:1]
            values = ijson.items(buffered, "body.item" if head == b"{" else "item",
                                 use_float=True)
            yield from self._spooled(counting, "ndjson", _whole(values), _ndjson_lines)

    def _spooled(self, counting: CountingReader, fmt: str, records: Iterator,
                 encode: Callable[[Iterator], Iterator[bytes]], *,
                 header: list[str] | None = None) -> Iterator[Part]:
        """Write ``records`` (each made bytes by ``encode``) into part files of about
        ``part_size`` bytes, a CSV part's header first; yield each part once it is full."""
        number, out, consumed = 0, None, 0
        for line in encode(records):
            if out is None:
                number += 1
                path = Path(self._spool.name) / f"part-{number:05d}.{fmt}"
                out = path.open("wb")
                if header is not None:
                    out.write(next(_csv_rows(iter([header]))))
            out.write(line)
            if out.tell() >= self.part_size:
                out.close()
                yield self._part(number, path, fmt, counting.bytes_read - consumed)
                consumed, out = counting.bytes_read, None
        if out is not None:
            out.close()
            yield self._part(number, path, fmt, counting.bytes_read - consumed)

    def _part(self, number: int, path: Path, fmt: str, input_bytes: int) -> Part:
        return Part(number, path, 0, os.path.getsize(path), input_bytes, CONTENT_TYPES[fmt])


def _csv_rows(rows: Iterator[list[str]]) -> Iterator[bytes]:
    """Yield each row as CSV bytes (its cells quoted as the CSV module does)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue().encode("utf-8", "surrogateescape")
        buffer.seek(0)
        buffer.truncate()


def _whole(values: Iterator) -> Iterator:
    """Yield a JSON document's values; UnreadableFile where the document breaks off."""
    try:
        yield from values
    except ijson.JSONError as error:
        raise UnreadableFile(f"the JSON document breaks off: {error}") from None


def _ndjson_lines(values: Iterator) -> Iterator[bytes]:
    """Yield each value as an NDJSON line."""
    for value in values:
        yield orjson.dumps(value) + b"\n"
