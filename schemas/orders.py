"""The order record: Gameball's required order fields, plus optional details kept as sent."""

from __future__ import annotations

from marshmallow import fields

from schemas.fields import JsonObjectLimits, Money, Timestamp, identifier
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
    # Line items, merchant, channel...: stored, not interpreted.
    extra = fields.Dict(keys=fields.String(), allow_none=True,
                        validate=JsonObjectLimits(max_bytes=16 * 1024, max_depth=5, max_keys=100))


order_schema = OrderSchema()
