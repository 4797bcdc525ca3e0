"""A request id on every request: the client's ``X-Request-ID`` if sane, else a new one.

It is echoed in the ``X-Request-ID`` response header and in every error body, so a
client's report can be matched to the server's logs, where every line of the request
carries it (with the tenant and job once known) and one line sums the request up.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from app.observability import logs

log = logging.getLogger("batchq.request")

_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def register_request_id(app: Flask) -> None:
    """Give every request an id, log it, and return it in the response."""

    @app.before_request
    def assign_request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _SANE.fullmatch(supplied) else uuid.uuid4().hex
        g.started = time.monotonic()
        logs.clear()
        logs.bind(requestId=g.request_id, jobId=_job_in_path(request.view_args or {}))

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        elapsed_ms = round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1)
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"method": request.method, "path": request.path,
                        "status": response.status_code, "durationMs": elapsed_ms})
        return response

    @app.teardown_request
    def forget_context(error: BaseException | None = None) -> None:
        logs.clear()


def _job_in_path(view_args: dict) -> int | str | None:
    """Return the job a path names (``job_id``, or the document's ``batchId``), as a number when
    it is one, so that a request's lines name the job as the worker's lines do."""
    raw = view_args.get("job_id", view_args.get("batchId"))
    return int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else raw
