"""A request's records read as sent: the fast path accepts only what the full path does."""

from __future__ import annotations

import threading

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from app.web import batch_body
from app.web.batch_body import read_records, records_as_sent
from app.web.errors import ApiError
from schemas.envelope import OBJECT_RECORDS, STRING_RECORDS
from tests.support.factories import SEED_REQUEST

MAX = 3

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
SCALAR = (st.none() | st.booleans() | st.integers(-2**64, 2**65) | st.floats(allow_nan=False)
          | TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
WHITESPACE = st.text(st.sampled_from(" \t\n\r"), max_size=2)


def spaced(value, gaps) -> bytes:
    """Serialise ``value`` as JSON with whitespace from ``gaps`` after every token."""
    def text(item) -> str:
        gap = gaps.draw(WHITESPACE)
        if isinstance(item, dict):
            inner = ",".join(f"{gap}{orjson.dumps(k).decode()}{gap}:{text(v)}"
                             for k, v in item.items())
            return f"{gap}{{{inner}{gap}}}{gap}"
        if isinstance(item, list):
            return f"{gap}[{','.join(text(v) for v in item)}{gap}]{gap}"
        try:
            return f"{gap}{orjson.dumps(item).decode()}{gap}"
        except TypeError:  # an integer beyond 64 bits: written out, as a client may
            return f"{gap}{item}{gap}"
    return text(value).encode()


# Bodies of every kind: right envelopes of either record type, wrong ones, and byte-level
# damage to any.
RECORDS = (st.lists(st.dictionaries(TEXT, VALUE, max_size=3), max_size=MAX + 1)
           | st.lists(TEXT, max_size=MAX + 1) | st.lists(TEXT | VALUE, max_size=MAX + 1))
ENVELOPE = st.fixed_dictionaries({"body": RECORDS})
RECORD_TYPES = {OBJECT_RECORDS: dict, STRING_RECORDS: str}
EXTRA_KEYS = st.dictionaries(st.sampled_from(["Body", "x"]), VALUE, min_size=1, max_size=1)
BODY_VALUE = (ENVELOPE | st.builds(lambda envelope, extra: {**envelope, **extra}, ENVELOPE,
                                   EXTRA_KEYS)
              | st.dictionaries(st.sampled_from(["body", "Body", "x"]), VALUE, max_size=2) | VALUE)


def full_path(body: bytes, record_type: str):
    """What the full path answers: the records, or the kind of error."""
    try:
        return batch_body._records_loaded(body, MAX, record_type).parsed()
    except (ApiError, ValidationError) as error:
        return type(error)


@pytest.mark.parametrize("record_type", sorted(RECORD_TYPES))
@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(value=BODY_VALUE, gaps=st.data(), repeated=st.none() | VALUE, damage=st.sampled_from(
    [None, b"\xef\xbb\xbf", b"\x00", b"\xff", b"]", b"}", b"\\", b'"', b"\xed\xa0\x80"]),
    at=st.floats(0, 1))
def test_what_the_fast_path_accepts_the_full_path_accepts_with_the_same_records(
        record_type, value, gaps, repeated, damage, at):
    body = spaced(value, gaps)
    if repeated is not None and isinstance(value, dict) and value:
        # "body" written twice, as a client may: JSON parsers keep the last.
        body = b'{"body":' + spaced(repeated, gaps) + b"," + body.lstrip()[1:]
        value = None  # not a right envelope, whatever it was
    if damage is not None:
        cut = int(len(body) * at)
        body = body[:cut] + damage + body[cut:]

    fast = records_as_sent(body, MAX, record_type)

    full = full_path(body, record_type)
    if fast is not None:
        assert full == orjson.loads(fast.json)
        assert fast.count == len(full)
    if damage is None and _right_envelope(value, RECORD_TYPES[record_type]):
        # However spaced, the fast path's own case.
        assert fast is not None, body


def _right_envelope(value, record_class: type) -> bool:
    """Tell whether ``value`` is 1 to MAX records of ``record_class`` under "body", its
    integers within 64 bits."""
    if not isinstance(value, dict) or value.keys() != {"body"}:
        return False
    records = value["body"]
    return (isinstance(records, list) and 0 < len(records) <= MAX
            and all(type(record) is record_class for record in records)
            and all(-2**63 <= x < 2**64 for x in _scalars(value) if type(x) is int))


def _scalars(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def test_the_records_are_stored_as_the_bytes_they_came_in():
    body = SEED_REQUEST.encode()

    records = records_as_sent(body, 1000)

    assert records is not None and records.count == 2
    assert records.json == body[body.index(b"["):body.rindex(b"]") + 1]
    assert records.parsed() == orjson.loads(body)["body"]


@pytest.mark.parametrize("body", [
    b'\xef\xbb\xbf{"body": [{}]}',            # a byte order mark: orjson refuses it
    b'{"body": [{"a": 1}], "body": [{}]}',    # a repeated key: orjson keeps the last
    b'{"body": [{}], "extra": 1}',
    b'{"body": {}}', b'{"body": []}', b'{"body": [{}, {}, {}, {}]}', b'{"body": [{}, 1]}',
    b'[{"body": [{}]}]', b'{"body": [{"a": 18446744073709551616}]}',
    b'{"body": [{"a": -9223372036854775809}]}', b'{"body": [{"a": "\\ud800"}]}',
    b'{"body": [{}]} {}', b'{"body": [{"a": "\xff"}]}', b"",
])
def test_anything_but_a_right_envelope_takes_the_full_path(body):
    assert records_as_sent(body, MAX) is None


def test_records_of_each_type_take_the_fast_path_only_in_their_own_envelope():
    ids, objects = b'{"body": ["ORDER-001", "[x]"]}', b'{"body": [{"a": 1}]}'

    assert records_as_sent(ids, MAX, STRING_RECORDS).parsed() == ["ORDER-001", "[x]"]
    assert records_as_sent(objects, MAX, STRING_RECORDS) is None
    assert records_as_sent(ids, MAX, OBJECT_RECORDS) is None
    with pytest.raises(ApiError) as mixed:
        read_records(b'{"body": ["a", {"b": 1}, 2]}', MAX, STRING_RECORDS)
    assert (mixed.value.code.code, mixed.value.errors) == (3016, {"body": {
        1: ["Each item must be a JSON string."], 2: ["Each item must be a JSON string."]}})


def test_the_full_path_answers_what_the_fast_path_declines():
    with pytest.raises(ApiError) as too_many:
        read_records(b'{"body": [{}, {}, {}, {}]}', MAX)
    with pytest.raises(ApiError) as not_json:
        read_records(b'{"body": [{"a": 18446744073709551616}]}', MAX)

    assert (too_many.value.code.status, too_many.value.code.code) == (422, 3011)
    assert (not_json.value.code.status, not_json.value.code.code) == (400, 3016)
    # A repeated key is JSON: the last one counts, as everywhere in the service.
    assert read_records(b'{"body": [{"a": 1}], "body": [{"b": 2}]}', MAX).parsed() == [{"b": 2}]


def test_each_thread_parses_with_a_parser_of_its_own():
    body = b'{"body": [{"a": 1}, {"b": 2}]}'
    results, barrier = [], threading.Barrier(4)

    def read() -> None:
        barrier.wait()
        results.extend(records_as_sent(body, MAX) for _ in range(200))
    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 800
    assert all(records.count == 2 and records.parsed() == [{"a": 1}, {"b": 2}]
               for records in results)


def test_a_large_body_is_read_by_a_parser_not_kept(monkeypatch):
    monkeypatch.setattr(batch_body, "_KEPT_PARSER_BYTES", 64)
    small, large = b'{"body": [{"a": 1}]}', b'{"body": [{"a": "' + b"x" * 100 + b'"}]}'
    real_parser, made = batch_body.simdjson.Parser, []

    def counted_parser():
        made.append(real_parser())
        return made[-1]
    monkeypatch.setattr(batch_body.simdjson, "Parser", counted_parser)
    counts = []

    def read() -> None:  # in a thread of its own, which has no parser yet
        for body in (small, small, large, large, small):
            assert records_as_sent(body, MAX).count == 1
            counts.append(len(made))
    thread = threading.Thread(target=read)
    thread.start()
    thread.join()

    assert counts == [1, 1, 2, 3, 3]
