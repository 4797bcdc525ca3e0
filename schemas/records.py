"""What every batch record has: only text PostgreSQL can store, and (all but the ids of
``orders/transactions``) a ``customerId``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validates

from schemas.fields import text_checked_already, unstorable_text_path

CUSTOMER_ID_MAX = 128


class StorableRecordSchema(Schema):
    """The base of every operation's record: only text PostgreSQL can store."""

    @pre_load
    def reject_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        """Fail a record carrying text PostgreSQL cannot store, naming where it is."""
        if text_checked_already():  # the job's stored JSON was searched (storable_json)
            return data
        path = unstorable_text_path(data)
        if path is not None:
            field = path.split(".", 1)[0]
            raise ValidationError({field: [f"Contains a NUL character or a lone surrogate at {path}."]})
        return data


class CustomerRecordSchema(StorableRecordSchema):
    """The base of the records about a customer (every operation's but orders/transactions)."""

    # The length is checked by validate_customer_id (one message); the metadata documents it.
    customerId = fields.String(required=True,
                               metadata={"minLength": 1, "maxLength": CUSTOMER_ID_MAX})

    @validates("customerId")
    def validate_customer_id(self, value: str, data_key: str) -> None:
        """Require a non-blank id of at most CUSTOMER_ID_MAX characters."""
        if not value.strip():
            raise ValidationError("Must not be blank.")
        if len(value) > CUSTOMER_ID_MAX:
            raise ValidationError(f"Longer than {CUSTOMER_ID_MAX} characters.")
