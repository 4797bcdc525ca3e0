"""Redemptions: spend points, given as ``points`` or as an ``amount``, once per transactionId.

An amount costs the tenant's redemption rate times it, rounded up. A redemption the
balance cannot cover fails the record; unknown customers fail it too (they have nothing
to spend).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.store.ledger import Entry
from workers.operations import ChunkContext, Outcome, ValidRecord, applies
from workers.outcomes import post_records, unknown_customer_outcomes


@applies("redeem")
def apply_redemptions(conn: psycopg.Connection, context: ChunkContext,
                      records: Sequence[ValidRecord]) -> list[Outcome]:
    """Spend each redemption's points once, if the balance covers them."""
    rule = context.points_rule(conn)

    def entry_of(record: ValidRecord) -> Entry:
        data = record.data
        points = data["points"] if _in_points(data) else rule.points_to_redeem(data["amount"])
        return Entry(record.index, data["customerId"], "redemption", data["transactionId"],
                     -points, reason=_hold(data.get("holdReference")),
                     occurred_at=data.get("transactionTime"), amount=data.get("amount"))

    return post_records(
        conn, context, records, entry_of,
        lambda _, p: f"Points redeemed successfully: {-p.points} points",
        refused=unknown_customer_outcomes(conn, context, records),
        amount_field=lambda r: "points" if _in_points(r.data) else "amount")


def _in_points(data: dict) -> bool:
    """Whether the redemption is given in points (else as an amount of money)."""
    return data.get("points") is not None


def _hold(reference: str | None) -> str | None:
    """Return the ledger reason for a redemption made against a hold, if any."""
    return f"holdReference {reference}" if reference else None
