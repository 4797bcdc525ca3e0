"""Checks every request passes before its handler runs.

A path segment carrying text no stored id can hold (a NUL character, a lone surrogate) names
nothing: it answers 404 at once, as an unknown id does, instead of reaching PostgreSQL, which
cannot even compare such text.
"""

from __future__ import annotations

from flask import Flask, request

from app.error_codes import NOT_FOUND
from app.web.errors import ApiError
from schemas.fields import unstorable_text_path


def register_guards(app: Flask) -> None:
    """Refuse impossible path values before any handler sees them (after the request id)."""

    @app.before_request
    def refuse_impossible_ids() -> None:
        for name, value in (request.view_args or {}).items():
            if isinstance(value, str) and unstorable_text_path(value) is not None:
                raise ApiError(NOT_FOUND, f"No such {name}: it contains a NUL character or "
                                          "a lone surrogate.")
