"""The catalogue of batch operations: what each one is called, what its records look like,
and what tells its records apart. A leaf both sides import: the web to route, document and
list operations, the workers to validate records before ``workers.operations`` applies them.

Adding an operation is a record schema in ``schemas/``, an entry here, and its apply step in
``workers/operations/`` (a test checks that the catalogue and the apply steps name the same
operations).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from marshmallow import Schema, fields

from schemas.customers import customer_schema
from schemas.envelope import OBJECT_RECORDS, STRING_RECORDS
from schemas.events import event_schema
from schemas.fastpath import FastLoader
from schemas.orders import order_lookup_schema, order_schema
from schemas.points import (
    balance_adjustment_schema,
    balance_inquiry_schema,
    cashback_schema,
    redemption_schema,
)


@dataclass(frozen=True)
class Operation:
    """A kind of batch job."""

    name: str                 # the URL segment: POST /batch/<name>
    title: str                # the status body's "operation"
    schema: Schema            # validates one record
    unique_field: str | None  # a field no two records of one request may share
    key_field: str = "customerId"  # reported with each record's outcome
    # For clients (README, GET /batch/operations): what an unknown customerId does, and
    # what makes a record apply at most once.
    unknown_customer: str = "The customer is created."
    idempotency_key: str = "none: applying a record again gives the same result"
    # What a record is in a request: a JSON object (OBJECT_RECORDS), or (STRING_RECORDS) its
    # key field's value alone, an id, loaded as {key_field: value}.
    record_type: str = OBJECT_RECORDS

    @cached_property
    def _fast(self) -> FastLoader:
        return FastLoader(self.schema)

    def load(self, record: Any) -> dict[str, Any]:
        """Validate one record with the schema (fast path first); raise ValidationError."""
        if self.record_type != OBJECT_RECORDS:
            record = {self.key_field: record}
        return self._fast.load_or_raise(record)

    def record_field(self) -> fields.Field:
        """Return the field that documents one record of a request."""
        if self.record_type != OBJECT_RECORDS:
            return self.schema.fields[self.key_field]
        return fields.Nested(self.schema)


_NO_CUSTOMER_FAILS = "The record fails: customerId names no customer."

OPERATIONS: dict[str, Operation] = {operation.name: operation for operation in (
    Operation(
        name="balance-adjustment", title="Balance Adjustment Batch Job",
        schema=balance_adjustment_schema, unique_field=None,
        unknown_customer=_NO_CUSTOMER_FAILS,
        idempotency_key="transactionId if given (applied once; a repeat fails with 9004), else "
                        "none: each record is a change"),
    Operation(
        name="balance-inquiry", title="Balance Inquiry Batch Job",
        schema=balance_inquiry_schema, unique_field=None,
        unknown_customer=_NO_CUSTOMER_FAILS, idempotency_key="none needed: a read"),
    Operation(
        name="cashback", title="Cashback Batch Job", schema=cashback_schema, unique_field=None,
        unknown_customer="The customer is created (an empty profile), then rewarded.",
        idempotency_key="transactionId: awarded once; a repeat fails with 9004"),
    Operation(
        name="customers", title="Customer Creation Batch Job", schema=customer_schema,
        unique_field="customerId", unknown_customer="The customer is created.",
        idempotency_key="customerId: a record creates or updates that customer"),
    Operation(
        name="events", title="Events Batch Job", schema=event_schema, unique_field=None,
        unknown_customer="The customer is created (an empty profile), then its events.",
        idempotency_key="(job, record, event name): a record's events are stored once"),
    Operation(
        name="orders", title="Order Creation Batch Job", schema=order_schema,
        unique_field="orderId",
        unknown_customer="The customer is created (an empty profile), then the order.",
        idempotency_key="orderId: an order is created or updated; its points are awarded once"),
    Operation(
        name="orders/transactions", title="Order Transactions Batch Job",
        schema=order_lookup_schema, unique_field=None, key_field="orderId",
        record_type=STRING_RECORDS,
        unknown_customer="Not applicable: a record is an orderId; one that names no order "
                         "and no transaction fails with 9002.",
        idempotency_key="none needed: a read"),
    Operation(
        name="redeem", title="Redemption Batch Job", schema=redemption_schema, unique_field=None,
        unknown_customer=_NO_CUSTOMER_FAILS,
        idempotency_key="transactionId: redeemed once; a repeat fails with 9004"),
)}


def get_operation(name: str) -> Operation | None:
    """Return the operation called ``name``, or None."""
    return OPERATIONS.get(name)


def title_of(name: str) -> str:
    """Return the display title of operation ``name`` (the name itself if unknown)."""
    operation = OPERATIONS.get(name)
    return operation.title if operation else name
