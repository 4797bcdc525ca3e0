"""JSON in and out of the HTTP layer, through orjson.

orjson is strict where the API must be strict: it rejects NaN and Infinity literals,
numbers that overflow a double, invalid UTF-8, lone surrogates and nesting deeper than
1,024 levels, so a hostile body fails here with a 400 and never reaches the workers. One
thing it lets through: an integer beyond 64 bits silently becomes an approximate float.
Such an integer is refused too, rather than stored as a different number.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response


class InvalidJSON(ValueError):
    """The bytes are not one JSON document."""


INT_MIN, INT_MAX = -(2**63), 2**64 - 1
# An integer beyond 64 bits has at least 19 digits in a row: only then is the slower,
# exact second parse needed (digits inside strings also match; that costs time, not truth).
# Found by mapping every digit to "0" and searching for 19 of them: much faster than a
# regular expression scanning the body.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGITS = b"0" * 19


def parse_json(data: bytes) -> Any:
    """Parse ``data`` as one strict JSON document."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidJSON(str(error)) from None
    if _LONG_DIGITS in data.translate(_DIGITS_TO_ZERO):
        try:
            json.loads(data, parse_int=_int64)
        except RecursionError:
            raise InvalidJSON("nested too deeply") from None
    return value


def _int64(literal: str) -> int:
    # Checked by length first: int() refuses very long literals with an error of its own.
    if len(literal.lstrip("-")) > 20 or not INT_MIN <= (number := int(literal)) <= INT_MAX:
        raise InvalidJSON(f"the integer {literal[:24]}... does not fit in 64 bits")
    return number


# Marshmallow keys list errors by position (integers); JSON keys are strings.
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """Serialise ``value`` to JSON bytes (dates as ISO 8601)."""
    return orjson.dumps(value, option=_DUMP_OPTIONS)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON response with ``body``."""
    return Response(dumps(body), status=status, headers=headers,
                    mimetype="application/json")
