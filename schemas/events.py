"""The event record: a customer and the events it did, each with its metadata."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.fields import JsonObjectLimits
from schemas.records import CustomerRecordSchema

EVENTS_MAX = 50
EVENT_NAME_MAX = 64


class EventSchema(CustomerRecordSchema):
    """``events`` maps each event's name to its metadata object (``{}`` for none)."""

    events = fields.Dict(
        required=True,
        keys=fields.String(validate=[validate.Length(min=1, max=EVENT_NAME_MAX),
                                     validate.Regexp(r".*\S", error="Must not be blank.")]),
        values=fields.Dict(keys=fields.String(),
                           validate=JsonObjectLimits(max_bytes=8 * 1024, max_depth=4,
                                                     max_keys=50),
                           error_messages={"invalid": "Must be an object of metadata."}),
        validate=validate.Length(min=1, max=EVENTS_MAX,
                                 error=f"Must hold 1 to {EVENTS_MAX} events."),
    )


event_schema = EventSchema()
