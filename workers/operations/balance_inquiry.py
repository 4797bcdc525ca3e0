"""Balance inquiry: read each customer's points balance (a read: nothing changes).

Each successful entry carries ``balance`` (available and pending points). An unknown
customer fails the record: answering 0 would hide a typo in a customerId.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.store import ledger
from app.store.customers import known_customers
from workers.operations import ChunkContext, Outcome, ValidRecord, applies
from workers.outcomes import unknown_customer_outcome


@applies("balance-inquiry")
def apply_balance_inquiry(conn: psycopg.Connection, context: ChunkContext,
                          records: Sequence[ValidRecord]) -> list[Outcome]:
    """Return each known customer's balance; fail unknown customers."""
    ids = [r.data["customerId"] for r in records]
    known = known_customers(conn, context.tenant_id, ids)
    found = ledger.balances(conn, context.tenant_id, sorted(known))
    return [Outcome(r.index, True, "Balance retrieved successfully",
                    {"balance": found[r.data["customerId"]].as_json()})
            if r.data["customerId"] in known else unknown_customer_outcome(r)
            for r in records]
