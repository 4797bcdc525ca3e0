"""Orders: create or update orders by (tenant, orderId); each order earns points once.

The order is upserted set-based (sorted by orderId, like customers); its points, the
tenant's earning rate times ``totalPaid`` rounded down, go through the ledger with the
orderId as source id, so an order sent again (updated or not) never earns twice. An
order keeps its customer: a record naming another customer for a stored orderId fails.
Unknown customers are created (an empty profile), as Gameball does for a first order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.customers import create_missing_customers
from app.points_rules import tenant_rule
from schemas.orders import order_schema
from workers import ledger
from workers.operations import ChunkContext, Operation, Outcome, ValidRecord, register
from workers.outcomes import outcome_of

_DETAILS = ("totalPrice", "totalDiscount", "totalShipping", "totalTax")

_UPSERT = """
INSERT INTO orders AS o (tenant_id, order_id, customer_id, order_date, total_paid, details)
SELECT %s, s.order_id, s.customer_id, s.order_date, s.total_paid, s.details
FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::numeric[], %s::jsonb[])
     AS s (order_id, customer_id, order_date, total_paid, details)
ORDER BY s.order_id
ON CONFLICT (tenant_id, order_id) DO UPDATE SET
    order_date = EXCLUDED.order_date, total_paid = EXCLUDED.total_paid,
    details = EXCLUDED.details, updated_at = now()
WHERE o.customer_id = EXCLUDED.customer_id
RETURNING order_id, (xmax = 0) AS created
"""


def apply_orders(conn: psycopg.Connection, context: ChunkContext,
                 records: Sequence[ValidRecord]) -> list[Outcome]:
    """Upsert the orders (orderIds unique among them), then award their points once."""
    data = [r.data for r in records]
    create_missing_customers(conn, context.tenant_id, (d["customerId"] for d in data))
    created = dict(conn.execute(_UPSERT, (
        context.tenant_id, [d["orderId"] for d in data], [d["customerId"] for d in data],
        [d["orderDate"] for d in data], [d["totalPaid"] for d in data],
        [Jsonb({k: _plain(d[k]) for k in _DETAILS if k in d}) for d in data],
    )).fetchall())
    rule = tenant_rule(conn, context.tenant_id, context.config.default_points_rule())
    entries = {r.index: ledger.Entry(r.index, r.data["customerId"], "order", r.data["orderId"],
                                     rule.points_earned(r.data["totalPaid"]), must_match=False,
                                     occurred_at=r.data["orderDate"])
               for r in records if r.data["orderId"] in created}
    postings = ledger.post(conn, context.tenant_id, context.job_id, list(entries.values()))
    outcomes = []
    for record in records:
        order_id = record.data["orderId"]
        if order_id not in created:
            outcomes.append(Outcome(record.index, False,
                                    f"orderId: Order {order_id!r} belongs to another customer; "
                                    "an order's customer cannot change."))
            continue
        verb = "created" if created[order_id] else "updated"
        outcome = outcome_of(entries[record.index], postings[record.index],
                             lambda p: f"Order {verb} successfully; {p.points} points awarded")
        if postings[record.index].status == "already_applied":
            # Updating an order is the normal case here, not a repeat: say it so.
            outcome = Outcome(record.index, True,
                              f"Order {verb} successfully; its points were awarded before",
                              outcome.details)
        outcomes.append(outcome)
    return outcomes


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON can hold it (amounts are Decimals after loading)."""
    return float(value) if isinstance(value, Decimal) else value


OPERATION = register(Operation(
    name="orders",
    title="Order Creation Batch Job",
    schema=order_schema,
    apply=apply_orders,
    unique_field="orderId",
    unknown_customer="The customer is created (an empty profile), then the order.",
    idempotency_key="orderId: an order is created or updated; its points are awarded once",
))
