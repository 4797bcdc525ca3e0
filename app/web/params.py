"""Loading query parameters and headers with a schema; bad values answer 400 in the JSON
error shape, naming each parameter and the reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from app.error_codes import INVALID_VALUE
from app.web.errors import ApiError
from schemas.messages import error_line


def load_params(schema: Schema, values: Mapping[str, Any], what: str = "query parameters") -> dict:
    """Return ``values`` loaded by ``schema``; raise a 400 naming every bad one."""
    try:
        return schema.load(dict(values))
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise ApiError(INVALID_VALUE, f"Invalid {what}: {error_line(messages)}",
                       errors=messages) from None
