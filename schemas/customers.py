"""The customer record: Gameball's customer fields, with the limits this service keeps.

Fields absent from a record leave the stored value as it was; ``null`` clears an optional
field. Unknown fields fail the record (naming the field) rather than being dropped
silently: a client that sends a field expects it to be stored.
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.fields import CalendarDate, JsonObjectLimits, StrictBoolean
from schemas.records import CustomerRecordSchema

TEXT_MAX = 255
TAGS_MAX, TAG_MAX = 100, 64
CUSTOM_MAX_BYTES, CUSTOM_MAX_DEPTH, CUSTOM_MAX_KEYS = 16 * 1024, 5, 100
GENDERS = ("M", "F", "O", "Other")


def _text(max_length: int = TEXT_MAX) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


class CustomerSchema(CustomerRecordSchema):
    """One customer profile to create or update, keyed by ``customerId``."""

    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    name = _text()
    displayName = _text()
    firstName = _text()
    lastName = _text()
    mobile = _text(32)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    dateOfBirth = CalendarDate(allow_none=True)
    joinDate = CalendarDate(allow_none=True)
    country = _text(64)
    city = _text(128)
    preferredLanguage = _text(16)
    guest = StrictBoolean(allow_none=True)
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=TAG_MAX)),
        allow_none=True,
        validate=validate.Length(max=TAGS_MAX),
    )
    custom = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        allow_none=True,
        validate=JsonObjectLimits(max_bytes=CUSTOM_MAX_BYTES, max_depth=CUSTOM_MAX_DEPTH,
                                  max_keys=CUSTOM_MAX_KEYS),
    )


class StoredCustomerSchema(CustomerSchema):
    """A stored customer, as GET /customers/{customerId} answers it."""

    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


customer_schema = CustomerSchema()
