"""gunicorn's own error answers in the API's JSON error shape.

gunicorn refuses some requests before the application sees them (a request line longer than
``limit_request_line``: 414; too many or too large headers: 431; a malformed request line,
header or chunk: 400) and answers them with a small HTML page. ``answer_refusals_as_json``
(called by the ``post_worker_init`` hook, ``app.runtime.gunicorn_hooks``) replaces that writer
in the worker process, so those answers are JSON like every other error.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

from gunicorn import util

from app.error_codes import for_status
from app.web.errors import error_body
from app.web.jsonio import dumps

log = logging.getLogger(__name__)

_MESSAGE_MAX = 200


def error_bytes(status: int, reason: str, message: str) -> bytes:
    """Return a whole HTTP response carrying the JSON error for ``status``."""
    request_id = uuid.uuid4().hex
    text = message.strip() or HTTPStatus(status).phrase
    if len(text) > _MESSAGE_MAX:
        text = text[:_MESSAGE_MAX] + "..."
    # No request was parsed, so no host is known: the documentation link is a path.
    body = dumps(error_body(for_status(status), text, request_id))
    log.info("refused by gunicorn: %s %s", status, text,
             extra={"requestId": request_id, "status": status})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error``: the same answer, as JSON."""
    util.write_nonblock(sock, error_bytes(status_int, reason, mesg))


def answer_refusals_as_json() -> None:
    """Make this gunicorn worker process answer its own refusals as JSON."""
    # gunicorn (27) has no setting or hook for its error answers: its workers call
    # util.write_error through the module, so replacing that attribute is the narrowest
    # change short of a worker class that copies gunicorn's whole error handler.
    util.write_error = write_json_error
