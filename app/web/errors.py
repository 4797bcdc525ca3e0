"""The one JSON error shape, and the handlers that turn every failure into it.

Every error body is ``{"code", "type", "message", "requestId", "errors"?}``. Codes follow
Gameball's ranges: 1xxx authentication, 2xxx request, 3xxx payload, 4xxx general (rate
limits), 5xxx server. No handler here ever answers HTML, and an unexpected exception becomes
a 500 in the same shape.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus

import psycopg
import psycopg_pool
from flask import Flask, Response, g
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.web.jsonio import json_response

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorKind:
    """An error the API can answer: its HTTP status, code and type."""

    status: int
    code: int
    type: str


UNAUTHENTICATED = ErrorKind(401, 1001, "Authentication Error")
NOT_FOUND = ErrorKind(404, 2001, "Not Found")
METHOD_NOT_ALLOWED = ErrorKind(405, 2002, "Method Not Allowed")
CONFLICT = ErrorKind(409, 2003, "Conflict")
UNSUPPORTED_MEDIA_TYPE = ErrorKind(415, 2004, "Unsupported Media Type")
BAD_REQUEST = ErrorKind(400, 2005, "Request Error")
# An Idempotency-Key reused with a different request.
IDEMPOTENCY_MISMATCH = ErrorKind(422, 2006, "Idempotency Error")
INVALID_JSON = ErrorKind(400, 3001, "Payload Error")
INVALID_PAYLOAD = ErrorKind(400, 3002, "Payload Error")
URI_TOO_LONG = ErrorKind(414, 2007, "Request Error")
HEADERS_TOO_LARGE = ErrorKind(431, 2008, "Request Error")
PAYLOAD_TOO_LARGE = ErrorKind(413, 3003, "Payload Too Large")
TOO_MANY_RECORDS = ErrorKind(413, 3004, "Payload Too Large")
RATE_LIMITED = ErrorKind(429, 4001, "Rate Limit Error")
INTERNAL = ErrorKind(500, 5001, "Server Error")
UNAVAILABLE = ErrorKind(503, 5002, "Service Unavailable")

# Werkzeug's own exceptions (routing, size limit) mapped onto ours by status.
_BY_STATUS = {
    kind.status: kind
    for kind in (UNAUTHENTICATED, NOT_FOUND, METHOD_NOT_ALLOWED, CONFLICT,
                 UNSUPPORTED_MEDIA_TYPE, BAD_REQUEST, PAYLOAD_TOO_LARGE, RATE_LIMITED, INTERNAL,
                 UNAVAILABLE)
}


class ApiError(Exception):
    """An error answered to the client in the JSON error shape."""

    def __init__(self, kind: ErrorKind, message: str, *, errors: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def error_response(kind: ErrorKind, message: str, *, errors: dict | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """Build the JSON error response for ``kind``."""
    body = {
        "code": kind.code,
        "type": kind.type,
        "message": message,
        "requestId": g.get("request_id", ""),
    }
    if errors:
        body["errors"] = errors
    response = json_response(body, kind.status)
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every exception in the JSON error shape."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return error_response(error.kind, error.message, errors=error.errors,
                              headers=error.headers)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Response:
        return error_response(INVALID_PAYLOAD, "The request body is not valid.",
                              errors=_as_dict(error.messages))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        kind = _BY_STATUS.get(status, ErrorKind(status, 2000, "Request Error"))
        headers = {}
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        message = error.description or HTTPStatus(status).phrase
        if status == 413:
            message = "The request body is larger than this server accepts."
        return error_response(kind, message, headers=headers)

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg_pool.PoolTimeout)
    def handle_database_unavailable(error: Exception) -> Response:
        log.warning("database unavailable: %s", error)
        return error_response(UNAVAILABLE, "The database is unavailable; retry shortly.",
                              headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(INTERNAL, "An unexpected error occurred; it has been logged.")


def _as_dict(messages: dict | list | str) -> dict:
    return messages if isinstance(messages, dict) else {"_schema": messages}
