"""A batch request's records, read from its body as the bytes they came in.

The web never uses a record itself: it checks the envelope (``{"body": [object, ...]}``, or
strings for an operation whose records are ids, 1 to ``MAX_RECORDS_PER_REQUEST`` of them),
stores the records and answers; each record is
validated by its job, which parses them again. Building 1,000 customers as Python objects
to check only that, then serialising them again for PostgreSQL, would cost the web more
CPU per POST than everything else it does, for objects thrown away at once.

So the common request takes a fast path: simdjson (pysimdjson) validates the whole
document without building Python objects, the envelope's shape is read from its tape, and
the records are stored as the bytes between the array's brackets, as sent. Any
other request (not JSON, another shape, too many records) takes the full path, which parses
it with orjson and loads it with the envelope's schema: every answer and message stays
the schema's.

The fast path accepts only what the full path accepts, with the same records: simdjson is as
strict as orjson (UTF-8, surrogates, control characters, nesting up to 1,024 levels) and
its integers span exactly the 64-bit range ``app.web.jsonio`` allows. Two differences are
shut out: a leading byte order mark (simdjson skips it, orjson refuses it), by looking at
the first byte before parsing; and a repeated key (simdjson keeps both, orjson the last),
by requiring the envelope to hold exactly one key. ``tests/unit/test_batch_body.py``
checks that agreement on generated documents.
"""

from __future__ import annotations

import threading

import simdjson
from marshmallow import ValidationError

from app.error_codes import EXCEEDS_LIMITS, INVALID_PAYLOAD, MISSING_ARGUMENTS, ErrorCode
from app.store.jobs import Records
from app.web.errors import ApiError
from app.web.jsonio import InvalidJSON, parse_json
from schemas.envelope import OBJECT_RECORDS, STRING_RECORDS, envelope_loader
from schemas.messages import error_line

# JSON's own whitespace (RFC 8259): anything else before the document is not JSON.
_JSON_WHITESPACE = b" \t\n\r"


# What simdjson gives for a record of each type: a proxy of an object, or a str.
_RECORD_CLASSES = {OBJECT_RECORDS: simdjson.Object, STRING_RECORDS: str}


def read_records(body: bytes, max_records: int, record_type: str = OBJECT_RECORDS) -> Records:
    """Return the records of a batch request body; raise ApiError (400, 422) if it is wrong."""
    return (records_as_sent(body, max_records, record_type)
            or _records_loaded(body, max_records, record_type))


def records_as_sent(body: bytes, max_records: int, record_type: str = OBJECT_RECORDS
                    ) -> Records | None:
    """Return the records of a well-formed ``{"body": [record, ...]}``; else ``None``."""
    if not body.lstrip(_JSON_WHITESPACE).startswith(b"{"):
        return None
    count = _envelope_count(body, max_records, _RECORD_CLASSES[record_type])
    if count is None:
        return None
    # The document is `{ "body" : [ ... ] }` with JSON whitespace around its tokens, and the
    # key (however escaped) holds no bracket: the first "[" opens the records, the last
    # "]" closes them.
    return Records(body[body.index(b"["):body.rindex(b"]") + 1], count)


def _envelope_count(body: bytes, max_records: int, record_class: type) -> int | None:
    """Return how many records the envelope holds if its shape is right; else ``None``."""
    # A parser keeps buffers the size of the largest document it has read (twice its size,
    # measured): kept per thread for the common body, allocated and freed for a larger one.
    parser = _thread_parser() if len(body) <= _KEPT_PARSER_BYTES else simdjson.Parser()
    try:
        document = parser.parse(body)
    except (ValueError, RuntimeError):
        # Not JSON (UnicodeDecodeError is a ValueError), or an integer beyond 64 bits
        # (BIGINT_ERROR is a RuntimeError): the full path says which, in its own words.
        return None
    records = None
    try:
        if type(document) is not simdjson.Object or len(document) != 1:
            return None
        records = document.get("body")
        if type(records) is not simdjson.Array or not 0 < len(records) <= max_records:
            return None
        if not all(type(record) is record_class for record in records):
            return None
        return len(records)
    finally:
        # A parser refuses to parse again while proxies of its last document live.
        del document, records


_local = threading.local()
_KEPT_PARSER_BYTES = 1 << 20


def _thread_parser() -> simdjson.Parser:
    """Return this thread's parser: one reused per thread keeps its buffers allocated."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = simdjson.Parser()
    return parser


def _records_loaded(body: bytes, max_records: int, record_type: str) -> Records:
    """The full path: parse with orjson, load with the envelope's schema, answer its errors."""
    try:
        payload = parse_json(body)
    except InvalidJSON as error:
        raise ApiError(INVALID_PAYLOAD, f"The body is not valid JSON: {error}.") from None
    loader = envelope_loader(max_records, record_type)
    try:
        records = loader.load_or_raise(payload)["body"]
    except ValidationError as error:
        if loader.schema.holds_too_many(payload):
            code = EXCEEDS_LIMITS
        elif isinstance(payload, dict) and "body" not in payload:
            code = MISSING_ARGUMENTS
        else:
            code = INVALID_PAYLOAD
        raise ApiError(code, _envelope_message(code, error.messages),
                       errors=error.messages) from None
    return Records.of(records)


def _envelope_message(code: ErrorCode, messages: dict) -> str:
    """Say what is wrong with the envelope: the count as its schema says it, else the body."""
    if code is EXCEEDS_LIMITS:
        return error_line(messages)
    # A "_schema" error is about the document itself, not about a record of it.
    whole = messages.get("_schema") if isinstance(messages, dict) and len(messages) == 1 else None
    return f"The request body is not valid: {' '.join(whole) if whole else error_line(messages)}"
