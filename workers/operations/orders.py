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

from app.error_codes import NOT_ACHIEVABLE
from app.store.customers import create_missing_customers
from app.store.ledger import Entry
from workers.operations import ChunkContext, Outcome, ValidRecord, applies
from workers.outcomes import post_records

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


@applies("orders")
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
    rule = context.points_rule(conn)

    def entry_of(record: ValidRecord) -> Entry:
        order = record.data
        return Entry(record.index, order["customerId"], "order", order["orderId"],
                     rule.points_earned(order["totalPaid"]), must_match=False,
                     occurred_at=order["orderDate"], amount=order["totalPaid"])

    def verb(record: ValidRecord) -> str:
        return "created" if created[record.data["orderId"]] else "updated"

    # The upsert leaves out an order stored for another customer: it earns nothing.
    refused = {r.index: Outcome.failed(r.index, NOT_ACHIEVABLE,
                                       f"orderId: Order {r.data['orderId']!r} belongs to another "
                                       "customer; an order's customer cannot change.")
               for r in records if r.data["orderId"] not in created}
    return post_records(
        conn, context, records, entry_of,
        lambda r, p: f"Order {verb(r)} successfully; {p.points} points awarded",
        refused=refused,
        # Updating an order is the normal case here, not a repeat: say it so.
        already_applied=lambda r, _: f"Order {verb(r)} successfully; its points were "
                                     "awarded before")


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON can hold it (amounts are Decimals after loading)."""
    return float(value) if isinstance(value, Decimal) else value
