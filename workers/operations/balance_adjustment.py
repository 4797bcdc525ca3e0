"""Balance adjustment: add or remove points by hand, with a reason.

A removal the balance cannot cover fails the record (the balance never goes below zero).
An adjustment has no id in Gameball's API; give ``transactionId`` and sending it again
changes nothing, else each record is its own change (keyed by job and record). Unknown
customers fail the record: adjusting a customer nobody created is most likely a typo.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.store.ledger import Entry
from workers.operations import ChunkContext, Outcome, ValidRecord, applies
from workers.outcomes import post_records, unknown_customer_outcomes


@applies("balance-adjustment")
def apply_balance_adjustment(conn: psycopg.Connection, context: ChunkContext,
                             records: Sequence[ValidRecord]) -> list[Outcome]:
    """Add or remove each record's points, unless the balance cannot cover a removal."""
    def entry_of(record: ValidRecord) -> Entry:
        data = record.data
        source_id = data.get("transactionId") or f"{context.job_id}:{record.index}"
        return Entry(record.index, data["customerId"], "adjustment", source_id, data["amount"],
                     reason=data.get("reason"))

    return post_records(
        conn, context, records, entry_of,
        lambda _, p: f"Balance adjusted successfully by {p.points:+d} points",
        refused=unknown_customer_outcomes(conn, context, records),
        amount_field=lambda r: "amount")
