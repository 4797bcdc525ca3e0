"""The order record: Gameball's required order fields, plus its optional totals."""

from __future__ import annotations

from schemas.fields import Money, Timestamp, identifier
from schemas.records import CustomerRecordSchema


class OrderSchema(CustomerRecordSchema):
    """One order to create or update, keyed by ``orderId``; points follow ``totalPaid``."""

    orderId = identifier(required=True)
    orderDate = Timestamp(required=True)
    totalPaid = Money(required=True)
    totalPrice = Money(allow_none=True)
    totalDiscount = Money(allow_none=True)
    totalShipping = Money(allow_none=True)
    totalTax = Money(allow_none=True)


order_schema = OrderSchema()
