"""The order records: an order to store (``orders``), and an order id to read back
(``orders/transactions``, whose records are the ids themselves)."""

from __future__ import annotations

from schemas.fields import Money, Timestamp, identifier
from schemas.records import CustomerRecordSchema, StorableRecordSchema


class OrderSchema(CustomerRecordSchema):
    """One order to create or update, keyed by ``orderId``; points follow ``totalPaid``."""

    orderId = identifier(required=True)
    orderDate = Timestamp(required=True)
    totalPaid = Money(required=True)
    totalPrice = Money(allow_none=True)
    totalDiscount = Money(allow_none=True)
    totalShipping = Money(allow_none=True)
    totalTax = Money(allow_none=True)


class OrderLookupSchema(StorableRecordSchema):
    """An order whose transactions to read: a record is its ``orderId`` alone."""

    orderId = identifier(required=True, metadata={"description": "An orderId (or the "
                                                                 "transactionId of a cashback, "
                                                                 "redemption or adjustment)."})


order_schema = OrderSchema()
order_lookup_schema = OrderLookupSchema()
