"""Reading a request body whole, within MAX_BODY_BYTES, however it is framed.

Werkzeug stops a body announced larger than the limit before reading it (413), but a chunked
body, which announces no length, is cut at the limit and the rest silently dropped, which
would turn an oversized request into a truncated, invalid one. Here a body still going at
the limit is refused with 413, and a body that cannot be read (a malformed chunk, a client
gone) is a 400, never a 500.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import HTTPException

from app.error_codes import BODY_TOO_LARGE, INVALID_PAYLOAD
from app.web.errors import ApiError

TOO_LARGE = "The request body is larger than this server accepts ({limit} bytes)."


def read_body(limit: int) -> bytes:
    """Return the request body; raise 413 past ``limit`` bytes, 400 if it cannot be read."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(BODY_TOO_LARGE, TOO_LARGE.format(limit=limit))
    try:
        data = request.get_data(cache=False)
        # A chunked body that filled the limit: refused if anything follows.
        if request.content_length is None and len(data) >= limit \
                and request.environ["wsgi.input"].read(1):
            raise ApiError(BODY_TOO_LARGE, TOO_LARGE.format(limit=limit))
    except (ApiError, HTTPException):
        raise
    except Exception as error:  # noqa: BLE001 - whatever breaks while reading is the stream's
        raise ApiError(INVALID_PAYLOAD, f"The request body could not be read: {error}.") from None
    return data
