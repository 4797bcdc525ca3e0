"""JSON in and out of the HTTP layer, through orjson.

orjson is strict where the API must be strict: it rejects NaN and Infinity literals,
numbers that overflow a double, invalid UTF-8, lone surrogates and nesting deeper than
1,024 levels, so a hostile body fails here with a 400 and never reaches the workers.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response


class InvalidJSON(ValueError):
    """The bytes are not one JSON document."""


def parse_json(data: bytes) -> Any:
    """Parse ``data`` as one strict JSON document."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidJSON(str(error)) from None


# Marshmallow keys list errors by position (integers); JSON keys are strings.
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """Serialise ``value`` to JSON bytes (dates as ISO 8601)."""
    return orjson.dumps(value, option=_DUMP_OPTIONS)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON response with ``body``."""
    return Response(dumps(body), status=status, headers=headers,
                    mimetype="application/json")
