"""The customer record: Gameball's customer fields, with the limits this service keeps.

Fields absent from a record leave the stored value as it was; ``null`` clears an optional
field. Unknown fields fail the record (naming the field) rather than being dropped
silently: a client that sends a field expects it to be stored.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates

from schemas.fields import CalendarDate, JsonObjectLimits, StrictBoolean, unstorable_text_path

CUSTOMER_ID_MAX = 128
TEXT_MAX = 255
TAGS_MAX, TAG_MAX = 100, 64
CUSTOM_MAX_BYTES, CUSTOM_MAX_DEPTH, CUSTOM_MAX_KEYS = 16 * 1024, 5, 100
GENDERS = ("M", "F", "O", "Other")


def _text(max_length: int = TEXT_MAX) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


class CustomerSchema(Schema):
    """One customer profile to create or update, keyed by ``customerId``."""

    # The length is checked by validate_customer_id (one message); the metadata documents it.
    customerId = fields.String(required=True,
                               metadata={"minLength": 1, "maxLength": CUSTOMER_ID_MAX})
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

    @validates("customerId")
    def validate_customer_id(self, value: str, data_key: str) -> None:
        """Require a non-blank id of at most CUSTOMER_ID_MAX characters."""
        if not value.strip():
            raise ValidationError("Must not be blank.")
        if len(value) > CUSTOMER_ID_MAX:
            raise ValidationError(f"Longer than {CUSTOMER_ID_MAX} characters.")

    @pre_load
    def reject_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        """Fail a record carrying text PostgreSQL cannot store, naming where it is."""
        path = unstorable_text_path(data)
        if path is not None:
            field = path.split(".", 1)[0]
            raise ValidationError({field: [f"Contains a NUL character or a lone surrogate at {path}."]})
        return data


class StoredCustomerSchema(CustomerSchema):
    """A stored customer, as GET /customers/{customerId} answers it."""

    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


customer_schema = CustomerSchema()
