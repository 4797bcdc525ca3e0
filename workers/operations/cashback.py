"""Cashback: points for a purchase, by the tenant's earning rate, once per transactionId.

Unknown customers are created (an empty profile): a purchase is how customers appear.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.store.customers import create_missing_customers
from app.store.ledger import Entry
from workers.operations import ChunkContext, Outcome, ValidRecord, applies
from workers.outcomes import post_records


@applies("cashback")
def apply_cashback(conn: psycopg.Connection, context: ChunkContext,
                   records: Sequence[ValidRecord]) -> list[Outcome]:
    """Award each purchase's points once."""
    rule = context.points_rule(conn)

    def entry_of(record: ValidRecord) -> Entry:
        data = record.data
        return Entry(record.index, data["customerId"], "cashback", data["transactionId"],
                     rule.points_earned(data["amount"]), occurred_at=data["transactionTime"],
                     amount=data["amount"])

    create_missing_customers(conn, context.tenant_id, (r.data["customerId"] for r in records))
    return post_records(conn, context, records, entry_of,
                        lambda _, p: f"Cashback awarded successfully: {p.points} points",
                        refused={})
