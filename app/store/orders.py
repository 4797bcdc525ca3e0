"""The order repository's reads: the orders a tenant stored, by orderId.

Orders are written set-based, with their points, by ``workers.operations.orders``; they are
read back by ``orders/transactions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg


@dataclass(frozen=True)
class StoredOrder:
    """An order as stored: its customer, when it was placed, what was paid, when written."""

    order_id: str
    customer_id: str
    order_date: datetime
    total_paid: Decimal
    updated_at: datetime


def find_orders(conn: psycopg.Connection, tenant_id: int, order_ids: Iterable[str]
                ) -> dict[str, StoredOrder]:
    """Return the tenant's orders among ``order_ids``, by orderId."""
    rows = conn.execute(
        "SELECT order_id, customer_id, order_date, total_paid, updated_at FROM orders"
        " WHERE tenant_id = %s AND order_id = ANY(%s)", (tenant_id, sorted(set(order_ids))))
    return {row[0]: StoredOrder(*row) for row in rows}
