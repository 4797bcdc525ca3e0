"""Cutting an uploaded part into blocks of raw lines: what is kept, counted, skipped, refused."""

from __future__ import annotations

import hashlib
import io

import orjson
import pytest

from app.web.errors import ApiError
from app.web.framing import MAX_LINE_BYTES, TOO_LONG_MESSAGE, PartReader


def read(body: bytes, fmt: str = "ndjson", *, block_lines: int = 2, max_records: int = 100,
         max_bytes: int = 10 * MAX_LINE_BYTES) -> tuple[PartReader, list]:
    reader = PartReader(io.BytesIO(body), fmt, block_lines=block_lines, max_records=max_records,
                        max_bytes=max_bytes)
    return reader, list(reader.blocks())


def test_ndjson_lines_are_kept_as_sent_in_blocks_and_blank_lines_hold_no_record():
    body = b'\xef\xbb\xbf{"a":1}\r\n\n   \n{"b": 2}\nnot json\n{"c":3}'
    reader, blocks = read(body)
    assert [block.lines for block in blocks] == [[b'{"a":1}', b'{"b": 2}'],
                                                 [b"not json", b'{"c":3}']]
    assert all(block.rejected is None for block in blocks)
    assert (reader.records, reader.size) == (4, len(body))
    assert reader.sha256 == hashlib.sha256(body).digest()


def test_a_line_too_long_fails_its_record_without_being_held():
    body = b'{"a":1}\n' + b"x" * (3 * MAX_LINE_BYTES) + b'\n{"b":2}\n'
    reader, blocks = read(body, block_lines=10)
    (block,) = blocks
    assert block.lines == [b'{"a":1}', b"", b'{"b":2}']
    assert block.rejected == {1: TOO_LONG_MESSAGE}
    assert reader.records == 3


def test_a_part_past_its_record_or_byte_bound_is_refused():
    with pytest.raises(ApiError) as records:
        read(b"{}\n" * 5, max_records=4)
    assert (records.value.code.code, records.value.code.status) == (3011, 422)
    with pytest.raises(ApiError) as size:
        read(b"{}\n" * 600, max_bytes=1024)
    assert (size.value.code.code, size.value.code.status) == (4013, 413)


def test_a_body_shorter_than_its_announced_length_was_cut_off():
    reader = PartReader(io.BytesIO(b'{"a": 1}\n{"b": 2}\n'), "ndjson", block_lines=10,
                        max_records=10, max_bytes=1000, length=50)
    with pytest.raises(ApiError) as cut:
        list(reader.blocks())
    assert cut.value.code.code == 3016 and "ended after 18 of the 50 bytes" in cut.value.message


def test_a_body_that_breaks_off_is_a_400():
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise ConnectionResetError("the client went away")

    reader = PartReader(Broken(), "ndjson", block_lines=2, max_records=10, max_bytes=10**6)
    with pytest.raises(ApiError) as broken:
        list(reader.blocks())
    assert broken.value.code.code == 3016 and "nothing was stored" in broken.value.message


def test_csv_rows_are_kept_as_their_cells_with_the_header_apart():
    body = ('\ufeffcustomerId, email ,tags\n1,a@b.com,vip;x\n\n"2","line\nbreak",\n'
            '3,"unterminated\n').encode()
    reader, blocks = read(body, "csv", block_lines=10)
    assert reader.header == ["customerId", "email", "tags"]
    assert [orjson.loads(line) for line in blocks[0].lines] == [
        ["1", "a@b.com", "vip;x"], ["2", "line\nbreak", ""], ["3", "unterminated\n"]]
    assert reader.records == 3


def test_a_csv_row_that_is_not_utf8_fails_alone():
    body = b"customerId,name\n1,caf\xe9\n2,ok\n"
    _, (block,) = read(body, "csv", block_lines=10)
    assert block.lines[1] == b'["2","ok"]'
    assert block.rejected == {0: "record: Not valid UTF-8 text; not read."}


@pytest.mark.parametrize("header, problem", [
    (b"customerId,,email\n", "column 2 has no name"),
    (b"customerId,email,email\n", "column 3 repeats 'email'"),
])
def test_a_csv_header_without_a_name_for_each_column_refuses_the_part(header, problem):
    with pytest.raises(ApiError) as refused:
        read(header + b"1,a,b\n", "csv")
    assert refused.value.code.code == 3016 and problem in refused.value.message
