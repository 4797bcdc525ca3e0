"""The event record: a customer and the events it did, each with its metadata."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.fields import JsonScalar
from schemas.records import CustomerRecordSchema

EVENTS_MAX = 50
EVENT_NAME_MAX = 64
METADATA_KEYS_MAX = 50


class EventSchema(CustomerRecordSchema):
    """``events`` maps each event's name to its metadata: a flat object (``{}`` for none)."""

    events = fields.Dict(
        required=True,
        keys=fields.String(validate=[validate.Length(min=1, max=EVENT_NAME_MAX),
                                     validate.Regexp(r".*\S", error="Must not be blank.")]),
        values=fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                           values=JsonScalar(),
                           validate=validate.Length(max=METADATA_KEYS_MAX,
                                                    error=f"At most {METADATA_KEYS_MAX} keys."),
                           error_messages={"invalid": "Must be an object of metadata."}),
        validate=validate.Length(min=1, max=EVENTS_MAX,
                                 error=f"Must hold 1 to {EVENTS_MAX} events."),
    )


event_schema = EventSchema()
