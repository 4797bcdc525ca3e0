"""The request envelope every batch operation shares: ``{"body": [record, ...]}``.

A record is a JSON object for every operation but those whose records are ids alone
(``orders/transactions``: ``{"body": ["ORDER-001", ...]}``): each operation names its
record type, and the envelope of that type checks the list and its count.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from schemas.fastpath import FastLoader

# An operation's records: JSON objects, or JSON strings (ids).
OBJECT_RECORDS, STRING_RECORDS = "object", "string"


def _body(item: fields.Field, kind: str) -> fields.List:
    return fields.List(
        item,
        required=True,
        # Marshmallow formats these with str.format: braces are doubled.
        error_messages={"required": "Missing: send the records as {{\"body\": [...]}}.",
                        "invalid": f"Must be a list of JSON {kind}.",
                        "null": f"Must be a list of JSON {kind}."},
    )


class BatchEnvelopeSchema(Schema):
    """A batch request: 1 to ``max_records`` JSON objects under ``body``."""

    body = _body(fields.Dict(error_messages={"invalid": "Each item must be a JSON object."}),
                 "objects")

    def __init__(self, *, max_records: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_records = max_records

    @validates("body")
    def validate_count(self, value: list, data_key: str) -> None:
        """Require between one and ``max_records`` records."""
        if not value:
            raise ValidationError("Must hold at least one record.")
        if len(value) > self.max_records:
            raise ValidationError(
                f"Holds {len(value)} records; one request takes at most {self.max_records}. "
                "Split the records over several requests.")

    def holds_too_many(self, payload: Any) -> bool:
        """Tell whether ``payload`` failed for its size alone (answered 413, not 400)."""
        body = payload.get("body") if isinstance(payload, dict) else None
        return isinstance(body, list) and len(body) > self.max_records


class StringBatchEnvelopeSchema(BatchEnvelopeSchema):
    """A batch request of 1 to ``max_records`` JSON strings (ids) under ``body``."""

    body = _body(fields.String(error_messages={"invalid": "Each item must be a JSON string."}),
                 "strings")


_ENVELOPES = {OBJECT_RECORDS: BatchEnvelopeSchema, STRING_RECORDS: StringBatchEnvelopeSchema}


@lru_cache(maxsize=8)
def envelope_loader(max_records: int, record_type: str = OBJECT_RECORDS) -> FastLoader:
    """Return the envelope schema of ``record_type`` for ``max_records``, with its fast path
    (built once)."""
    return FastLoader(_ENVELOPES[record_type](max_records=max_records))


def request_schema(title: str, record: fields.Field, max_records: int) -> type[Schema]:
    """Return the documented request of one operation: its records under ``body``.

    The envelope validates only the list (each record is validated by its job, so that one
    bad record fails alone); ``record`` tells clients what a record must look like.
    """
    body = fields.List(record, required=True, validate=validate.Length(min=1, max=max_records))
    return Schema.from_dict({"body": body}, name=f"{title}BatchRequest")
