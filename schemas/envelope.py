"""The request envelope every batch operation shares: ``{"body": [object, ...]}``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from schemas.fastpath import FastLoader


class BatchEnvelopeSchema(Schema):
    """A batch request: 1 to ``max_records`` JSON objects under ``body``."""

    body = fields.List(
        fields.Dict(error_messages={"invalid": "Each item must be a JSON object."}),
        required=True,
        # Marshmallow formats these with str.format: braces are doubled.
        error_messages={"required": "Missing: send the records as {{\"body\": [...]}}.",
                        "invalid": "Must be a list of JSON objects.",
                        "null": "Must be a list of JSON objects."},
    )

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


@lru_cache(maxsize=4)
def envelope_loader(max_records: int) -> FastLoader:
    """Return the envelope schema for ``max_records``, with its fast path (built once)."""
    return FastLoader(BatchEnvelopeSchema(max_records=max_records))


def request_schema(title: str, record_schema: Schema, max_records: int) -> type[Schema]:
    """Return the documented request of one operation: its records under ``body``.

    The envelope validates only the list (each record is validated by its job, so that one
    bad record fails alone); this schema tells clients what a record must look like.
    """
    body = fields.List(fields.Nested(record_schema), required=True,
                       validate=validate.Length(min=1, max=max_records))
    return Schema.from_dict({"body": body}, name=f"{title}BatchRequest")
