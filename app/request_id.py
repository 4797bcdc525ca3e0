"""A request id on every request: the client's ``X-Request-ID`` if sane, else a new one.

It is echoed in the ``X-Request-ID`` response header and in every error body, so a
client's report can be matched to the server's logs.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def register_request_id(app: Flask) -> None:
    """Give every request an id and return it in the response."""

    @app.before_request
    def assign_request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _SANE.fullmatch(supplied) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response
