"""Query parameters and request headers of the client endpoints: listing, results pages,
idempotency keys and callback URLs. Loaded values are ready to use (cursors decoded).

The operations a listing may filter on are the catalogue's: the web passes them in, since
schemas import nothing of the layers above them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from marshmallow import Schema, fields, validate

from schemas import cursors
from schemas.jobs import STATUSES

# Short enough that even percent-encoded 4-byte characters (12 bytes each) keep the POST's
# request line inside gunicorn's 4,094 bytes: a longer one would be refused before Flask,
# and not in the JSON error shape. Real callback URLs are ASCII and far shorter.
CALLBACK_URL_MAX = 300
IDEMPOTENCY_KEY_MAX = 255


# Formats named in the OpenAPI document for values that only this service makes: a client
# (or a generator such as schemathesis) learns from them what a valid value is.
JOB_CURSOR_FORMAT = "batchq-job-cursor"
INDEX_CURSOR_FORMAT = "batchq-index-cursor"
CALLBACK_URL_FORMAT = "http-url"


class Cursor(fields.String):
    """An opaque cursor from a previous page, loaded as the tuple of values it holds."""

    default_error_messages = {"cursor": "Not a valid cursor; pass the nextCursor of a previous page."}

    def __init__(self, *types: type, format: str = INDEX_CURSOR_FORMAT, **kwargs: Any) -> None:
        description = "The nextCursor of the previous page; omit it for the first page."
        super().__init__(metadata={"format": format, "description": description}, **kwargs)
        self.types = types

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return cursors.decode(text, *self.types)
        except cursors.InvalidCursor:
            raise self.make_error("cursor") from None


class JobCursor(Cursor):
    """A position in the job listing: (createdAt, jobId) of the last job of a page."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(str, int, format=JOB_CURSOR_FORMAT, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        created_at, job_id = super()._deserialize(value, attr, data, **kwargs)
        try:
            return datetime.fromisoformat(created_at), job_id
        except ValueError:
            raise self.make_error("cursor") from None


def _limit(default: int, maximum: int) -> fields.Integer:
    return fields.Integer(load_default=default, validate=validate.Range(min=1, max=maximum))


class JobListQuerySchema(Schema):
    """``GET /batch``: filters, page size and the cursor of the previous page."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    operation = fields.String()
    createdAfter = fields.AwareDateTime(default_timezone=timezone.utc)
    limit = _limit(20, 100)
    cursor = JobCursor()

    def __init__(self, *, operations: Iterable[str] = (), **kwargs: Any) -> None:
        """``operations``: the names ``operation`` may take (the catalogue's, from the web)."""
        super().__init__(**kwargs)
        if operations:
            self.fields["operation"].validators.append(validate.OneOf(sorted(operations)))


class ResultsPageQuerySchema(Schema):
    """``GET /batch/{jobId}/failed`` and ``/successful``: page size and cursor."""

    limit = _limit(100, 1000)
    cursor = Cursor(int)


class CallbackQuerySchema(Schema):
    """The query parameter of a POST: where to send the job's final status."""

    callbackUrl = fields.Url(schemes={"http", "https"}, require_tld=False,
                             validate=validate.Length(max=CALLBACK_URL_MAX),
                             metadata={"format": CALLBACK_URL_FORMAT, "description": "http(s) URL the final status body is "
                                                      "POSTed to, signed (also the X-Callback-URL "
                                                      "header)."})


class SubmitOptionsSchema(CallbackQuerySchema):
    """What a POST may carry besides its body: a callback URL and an idempotency key."""

    idempotencyKey = fields.String(validate=[
        validate.Length(min=1, max=IDEMPOTENCY_KEY_MAX),
        validate.Regexp(r"[\x21-\x7e]+\Z", error="Use printable ASCII characters only, no spaces."),
    ])
