"""The customer record in both of Gameball's shapes, loaded into one flat profile.

The seed's tutorial sends a profile flat (``name``, ``gender``, ``tags``, ``custom`` beside
``customerId``); Gameball's published document nests it under ``customerAttributes`` and
keeps ``email``, ``mobile``, ``deviceToken``, ``osType``, ``referrerCode`` and ``guest`` at
the top. Both load into the one flat document a customer is stored as, so a flat
``firstName`` and ``customerAttributes.firstName`` are the same field: a record giving both
with different values fails, naming the nested one.

Fields absent from a record leave the stored value as it was; ``null`` clears an optional
field. Unknown fields, at the top or inside ``customerAttributes``, fail the record (naming
the field) rather than being dropped silently: a client that sends a field expects it to
be stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from schemas.fields import (
    JSON_VALUE_DOC,
    CalendarDate,
    JsonLimits,
    JsonNumber,
    StrictBoolean,
    Timestamp,
)
from schemas.records import CustomerRecordSchema

TEXT_MAX = 255
TAGS_MAX, TAG_MAX = 100, 64
CUSTOM_MAX_BYTES, CUSTOM_MAX_DEPTH, CUSTOM_MAX_KEYS = 16 * 1024, 5, 100
# utms, devices, paymentMethods: lists of JSON values (the document does not type their items).
LIST_MAX_BYTES, LIST_MAX_DEPTH, LIST_MAX_ITEMS = 8 * 1024, 4, 50
TOTAL_ORDERS_MAX = 10**9
GENDERS = ("M", "F", "O", "Other")
CHANNELS = ("mobile", "pos", "web", "callcenter")
ATTRIBUTES = "customerAttributes"
# The fields the published document keeps beside customerId; a stored profile's others
# are its attributes (GET /customers/{customerId} answers them under customerAttributes).
TOP_LEVEL_FIELDS = ("email", "mobile", "deviceToken", "osType", "referrerCode", "guest")


def _text(max_length: int = TEXT_MAX) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


def _json_list() -> fields.List:
    return fields.List(fields.Raw(metadata={**JSON_VALUE_DOC,
                                            "description": "A string, number, boolean, object "
                                                           "or array."}),
                       allow_none=True,
                       validate=JsonLimits(max_bytes=LIST_MAX_BYTES, max_depth=LIST_MAX_DEPTH,
                                           max_entries=LIST_MAX_ITEMS))


class ProfileFields(Schema):
    """The attributes both shapes carry, with the same rules in both places."""

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
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=TAG_MAX)),
        allow_none=True,
        validate=validate.Length(max=TAGS_MAX),
    )
    custom = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        allow_none=True,
        metadata={"additionalProperties": JSON_VALUE_DOC},
        validate=JsonLimits(max_bytes=CUSTOM_MAX_BYTES, max_depth=CUSTOM_MAX_DEPTH,
                            max_entries=CUSTOM_MAX_KEYS),
    )


class CustomerAttributesSchema(ProfileFields):
    """``customerAttributes``: the published document's profile, plus the seed's ``name`` and
    ``tags`` (which GET answers there, so that a profile read can be sent back as it is)."""

    error_messages = {"type": "Must be a JSON object."}

    zip = _text(16)
    source = _text(128)
    utms = _json_list()
    devices = _json_list()
    paymentMethods = _json_list()
    totalSpent = JsonNumber(allow_none=True)
    lastOrderDate = Timestamp(allow_none=True)
    totalOrders = fields.Integer(strict=True, allow_none=True,
                                 validate=validate.Range(min=0, max=TOTAL_ORDERS_MAX))
    avgOrderAmount = JsonNumber(allow_none=True)
    channel = fields.String(allow_none=True, validate=validate.OneOf(CHANNELS))


# Fields a record may give twice, flat and under customerAttributes: one value for both.
SHARED_FIELDS = tuple(ProfileFields._declared_fields)


class CustomerSchema(ProfileFields, CustomerRecordSchema):
    """One customer profile to create or update, keyed by ``customerId``, in either shape."""

    guest = StrictBoolean(allow_none=True)
    deviceToken = _text(512)
    osType = _text(32)
    referrerCode = _text(128)
    customerAttributes = fields.Nested(CustomerAttributesSchema, metadata={
        "description": "The published document's profile; its fields land in the same "
                       "profile as the flat ones (one value per field)."})

    @validates_schema
    def validate_one_value_per_field(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a field given flat and under customerAttributes with different values."""
        attributes = data.get(ATTRIBUTES)
        if not attributes:
            return
        differing = {name: [f"Differs from the top-level {name}; send it once, or the same "
                            "value in both places."]
                     for name in SHARED_FIELDS
                     if name in attributes and name in data
                     and _as_json(attributes[name]) != _as_json(data[name])}
        if differing:
            raise ValidationError({ATTRIBUTES: differing})

    @post_load
    def flatten(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Return the record as the one flat profile it is stored as."""
        attributes = data.pop(ATTRIBUTES, None)
        if attributes:
            data.update(attributes)  # the same values as any flat ones (checked above)
        return data


def _as_json(value: Any) -> bytes:
    """Return ``value`` as JSON, so that ``True`` and ``1``, or ``1`` and ``1.0``, differ."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# The top-level fields that are not also attributes: GET answers them at the top only
# (email and mobile, in both places of the document, are answered in both).
TOP_LEVEL_ONLY = tuple(name for name in TOP_LEVEL_FIELDS
                       if name not in CustomerAttributesSchema._declared_fields)


class StoredCustomerSchema(Schema):
    """A stored customer, as GET /customers/{customerId} answers it: the document's shape."""

    customerId = fields.String(required=True)
    gameballId = fields.Integer(required=True, metadata={
        "description": "The customer's number in this service: given once, never reused, "
                       "below 2^53."})
    email = fields.Email(allow_none=True)
    mobile = fields.String(allow_none=True)
    deviceToken = fields.String(allow_none=True)
    osType = fields.String(allow_none=True)
    referrerCode = fields.String(allow_none=True)
    guest = fields.Boolean(allow_none=True)
    customerAttributes = fields.Nested(CustomerAttributesSchema, required=True, metadata={
        "description": "Every stored attribute but the top-level-only fields, whichever shape "
                       "wrote it (the seed's name and tags included)."})
    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


class CustomerBalanceSchema(Schema):
    """A customer's points, as GET /customers/{customerId}/balance answers them."""

    totalPointsBalance = fields.Integer(required=True, metadata={
        "description": "Available and pending points."})
    totalPointsValue = fields.Float(required=True, metadata={
        "description": "totalPointsBalance in money at the tenant's redemption rate, rounded "
                       "down to the cent (redeeming it never costs more points than there are)."})
    availablePointsBalance = fields.Integer(required=True)
    availablePointsValue = fields.Float(required=True)
    pendingPoints = fields.Integer(required=True, metadata={
        "description": "Always 0: holds are recorded with a redemption, not held."})
    pendingPointsValue = fields.Float(required=True)


customer_schema = CustomerSchema()
