"""The one JSON error shape, and the handlers that turn every failure into it.

Every error body is Gameball's envelope, ``{"code", "type", "message", "documentationUrl",
"requestId"}``, plus ``errors`` (by field) where a body or parameter was invalid. The codes
are Gameball's published ones where it has one for the case (``app.error_codes``);
``documentationUrl`` points at this service's own table of them (``GET /docs/errors``). No
handler here ever answers HTML, and an unexpected exception becomes a 500 in the same shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import psycopg
import psycopg_pool
from flask import Flask, Response, g, has_request_context, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.error_codes import INVALID_PAYLOAD, UNAVAILABLE, UNEXPECTED, ErrorCode, for_status
from app.web.jsonio import json_response

log = logging.getLogger(__name__)

# Where GET /docs/errors lists every code; a code is an anchor of that page.
ERRORS_PAGE = "/docs/errors"


class ApiError(Exception):
    """An error answered to the client in the JSON error shape."""

    def __init__(self, code: ErrorCode, message: str, *, errors: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def documentation_url(code: ErrorCode, base: str = "") -> str:
    """Return where ``code`` is explained: this service's error table, at the code's row."""
    return f"{base.rstrip('/')}{ERRORS_PAGE}#{code.code}"


def error_body(code: ErrorCode, message: str, request_id: str, *, base: str = "",
               errors: dict | None = None) -> dict:
    """Return the JSON error body for ``code`` (``base``: this service's URL, if known)."""
    body = {"code": code.code, "type": code.type, "message": message,
            "documentationUrl": documentation_url(code, base), "requestId": request_id}
    if errors:
        body["errors"] = errors
    return body


def error_response(code: ErrorCode, message: str, *, errors: dict | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """Build the JSON error response for ``code``, with its HTTP status."""
    base = request.host_url if has_request_context() else ""
    body = error_body(code, message, g.get("request_id", ""), base=base, errors=errors)
    response = json_response(body, code.status)
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every exception in the JSON error shape."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return error_response(error.code, error.message, errors=error.errors,
                              headers=error.headers)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Response:
        return error_response(INVALID_PAYLOAD, "The request body is not valid.",
                              errors=_as_dict(error.messages))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {}
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        message = error.description or HTTPStatus(status).phrase
        if status == 413:
            message = "The request body is larger than this server accepts."
        return error_response(for_status(status), message, headers=headers)

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg_pool.PoolTimeout)
    def handle_database_unavailable(error: Exception) -> Response:
        log.warning("database unavailable: %s", error)
        return error_response(UNAVAILABLE, "The database is unavailable; retry shortly.",
                              headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(UNEXPECTED, "An unexpected error occurred; it has been logged.")


def _as_dict(messages: dict | list | str) -> dict:
    return messages if isinstance(messages, dict) else {"_schema": messages}
