"""A file cut into upload parts: at record ends, the same way every time, headers repeated."""

from __future__ import annotations

import csv
import hashlib
import io

import click
import orjson
import pytest
from click.testing import CliRunner

from batchq_cli.main import SIZE
from batchq_cli.parts import PartFiles


def cut(tmp_path, name: str, data: bytes, fmt: str, size: int) -> list[bytes]:
    path = tmp_path / name
    path.write_bytes(data)
    with PartFiles(path, fmt, size) as parts:
        bodies = []
        for part in parts:
            body = b"".join(part.chunks())
            assert part.size == len(body)
            assert part.sha256 == hashlib.sha256(body).hexdigest()
            bodies.append(body)
        return bodies


def test_ndjson_parts_end_at_line_ends_and_cover_the_file(tmp_path):
    data = b"".join(orjson.dumps({"customerId": f"c{n}", "pad": "x" * (n % 7)}) + b"\n"
                    for n in range(200))
    bodies = cut(tmp_path, "a.ndjson", data, "ndjson", 1000)
    assert b"".join(bodies) == data
    assert all(body.endswith(b"\n") for body in bodies)
    assert all(len(body) >= 1000 for body in bodies[:-1])
    assert bodies == cut(tmp_path, "b.ndjson", data, "ndjson", 1000)  # the same every time


def test_csv_parts_repeat_the_header_and_keep_quoted_line_breaks_whole(tmp_path):
    rows = [["customerId", "note"]] + [[f"c{n}", f"line one\nline {n}"] for n in range(100)]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    bodies = cut(tmp_path, "a.csv", text.getvalue().encode(), "csv", 300)
    assert len(bodies) > 3
    read = [list(csv.reader(io.StringIO(body.decode()))) for body in bodies]
    assert all(part[0] == rows[0] for part in read)
    assert [row for part in read for row in part[1:]] == rows[1:]


def test_a_json_file_becomes_ndjson_parts(tmp_path):
    records = [{"customerId": f"j{n}", "amount": n / 4} for n in range(50)]
    bodies = cut(tmp_path, "a.json", orjson.dumps({"body": records}), "json", 200)
    assert [orjson.loads(line) for body in bodies for line in body.splitlines()] == records


@pytest.mark.parametrize("text, size", [("0", 0), ("500", 500), ("16M", 16 * 2**20),
                                        ("1.5K", 1536), ("2GiB", 2 * 2**30), ("100kb", 102400)])
def test_sizes_are_read_with_binary_units(text, size):
    assert SIZE.convert(text, None, None) == size


def test_a_size_that_is_not_one_is_a_usage_error():
    @click.command()
    @click.option("--part-size", type=SIZE)
    def command(part_size):
        pass

    result = CliRunner().invoke(command, ["--part-size", "lots"])
    assert result.exit_code == 2 and "not a size like 500K" in result.output
