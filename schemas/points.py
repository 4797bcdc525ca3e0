"""The records of the four points operations: inquiry, adjustment, cashback, redemption.

Points are whole numbers; money amounts are JSON numbers converted to points by the
tenant's rule (see ``app.store.ledger``). ``transactionId`` is what makes a cashback or a
redemption apply once, whatever request or job carries it again.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.fields import Money, Points, Timestamp, identifier
from schemas.records import CustomerRecordSchema


class BalanceInquirySchema(CustomerRecordSchema):
    """A customer whose balance to read."""


class BalanceAdjustmentSchema(CustomerRecordSchema):
    """Points to add (positive) or remove (negative), with why."""

    amount = Points(required=True)
    reason = fields.String(allow_none=True, validate=validate.Length(max=255))
    # Our addition to Gameball's fields: give one and a repeated adjustment applies once.
    transactionId = identifier(allow_none=True)

    @validates_schema
    def validate_not_zero(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse an adjustment of zero points, which would change nothing."""
        if data.get("amount") == 0:
            raise ValidationError("Must not be zero.", "amount")


class CashbackSchema(CustomerRecordSchema):
    """A purchase that earns points by the tenant's earning rule, once per transactionId."""

    transactionId = identifier(required=True)
    transactionTime = Timestamp(required=True)
    amount = Money(required=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    mobile = fields.String(allow_none=True, validate=validate.Length(max=32))


class RedemptionSchema(CustomerRecordSchema):
    """Points spent, given as ``points`` or as an ``amount`` of money, once per transactionId."""

    transactionId = identifier(required=True)
    transactionTime = Timestamp(allow_none=True)
    points = Points(minimum=1, allow_none=True)
    amount = Money(allow_none=True)
    holdReference = identifier(allow_none=True)

    @validates_schema
    def validate_points_or_amount(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require exactly one of ``points`` and ``amount``."""
        has_points, has_amount = data.get("points") is not None, data.get("amount") is not None
        if has_points == has_amount:
            raise ValidationError("Give exactly one of points and amount.", "points")
        if has_amount and data["amount"] <= 0:
            raise ValidationError("Must be greater than 0.", "amount")


balance_inquiry_schema = BalanceInquirySchema()
balance_adjustment_schema = BalanceAdjustmentSchema()
cashback_schema = CashbackSchema()
redemption_schema = RedemptionSchema()
