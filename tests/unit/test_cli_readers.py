"""The CLI's readers: NDJSON, JSON (array or envelope) and CSV, streamed, errors per record."""

from __future__ import annotations

import io

import pytest

from app.catalogue import OPERATIONS
from batchq_cli.readers import Item, UnreadableFile, detect_format, read_items


def items(data: bytes, fmt: str) -> list[Item]:
    return list(read_items(io.BufferedReader(io.BytesIO(data)), fmt,
                           OPERATIONS["customers"].schema))


def test_ndjson_skips_blank_lines_and_reports_bad_ones_by_line():
    data = b'{"customerId": "a"}\n\n{"customerId": \n[1, 2]\r\n{"customerId": "b", "x": 1.5}\n'
    read = items(data, "ndjson")
    assert [(i.line, i.error is None) for i in read] == [(1, True), (3, False), (4, False), (5, True)]
    assert read[1].error.startswith("record: Not valid JSON") and read[1].record == '{"customerId": '
    assert read[2].error == "record: Must be a JSON object, not list."
    assert read[3].record == {"customerId": "b", "x": 1.5}


@pytest.mark.parametrize("data", [b' [{"customerId": "a"}, {"customerId": "b", "n": 1.25}, 7]',
                                  b'{"body": [{"customerId": "a"}, {"customerId": "b", "n": 1.25}, 7]}'])
def test_json_array_or_envelope(data):
    read = items(data, "json")
    assert [i.record for i in read[:2]] == [{"customerId": "a"}, {"customerId": "b", "n": 1.25}]
    assert type(read[1].record["n"]) is float
    assert read[2].line == 3 and read[2].error == "record: Must be a JSON object, not int."


def test_a_broken_json_document_stops_with_what_was_read():
    reader = read_items(io.BufferedReader(io.BytesIO(b'[{"customerId": "a"}, {"custo')), "json")
    assert next(reader).record == {"customerId": "a"}
    with pytest.raises(UnreadableFile):
        next(reader)


def test_csv_columns_become_fields_typed_as_the_service_types_them():
    data = ("\ufeffcustomerId,email,tags,guest,custom.points,custom.note,name\r\n"
            "c1,c1@example.com,vip; newsletter ,TRUE,1500,\"hello, world\",\r\n"
            "\r\n"
            "c2,,,maybe,0012,\"{\"\"a\"\": 1}\",Zoë\r\n"
            "c3,x,y,z,1,2,3,4\r\n").encode()
    read = items(data, "csv")
    assert read[0] == Item(2, {"customerId": "c1", "email": "c1@example.com",
                               "tags": ["vip", "newsletter"], "guest": True,
                               "custom": {"points": 1500, "note": "hello, world"}})
    assert read[1].record == {"customerId": "c2", "guest": "maybe", "name": "Zoë",
                              "custom": {"points": "0012", "note": {"a": 1}}}
    assert read[2].line == 5 and read[2].error == (
        "record: The row has 8 cells; the header names 7 columns.")


@pytest.mark.parametrize(("name", "content", "fmt"), [
    ("a.ndjson", b"", "ndjson"), ("a.JSONL", b"", "ndjson"), ("a.json", b"", "json"),
    ("a.csv", b"", "csv"), ("a.txt", b'  [{"a": 1}]', "json"),
    ("a.txt", b'{"a": 1}\n{"a": 2}\n', "ndjson"), ("a.txt", b'{\n"body": []}', "json"),
    ("a.txt", b"customerId\nx\n", "csv"),
])
def test_format_from_suffix_else_content(tmp_path, name, content, fmt):
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == fmt
