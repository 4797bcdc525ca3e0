"""Order transactions: read back what happened to each order (a read: nothing changes).

A record is an orderId. Its successful entry lists the order's transactions, oldest first:
the payment (the order's ``totalPaid`` at its ``orderDate``), then every ledger row under
that id: the points the order earned, and any cashback, redemption or adjustment whose
transactionId is the orderId (integrations that reward purchases through cashback use the
order's id there). An id that names no order and no such row fails with 9002, Gameball's
"transaction not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import psycopg

from app.error_codes import TRANSACTION_NOT_FOUND
from app.store import ledger
from app.store.jobs import iso
from app.store.orders import StoredOrder, find_orders
from workers.operations import ChunkContext, Outcome, ValidRecord, applies

FOUND = "Order transactions retrieved successfully"
# A ledger row's source, as a transaction's type: an order's row is the points it earned.
TYPES = {"order": "reward", "cashback": "cashback", "redemption": "redemption",
         "adjustment": "adjustment"}


@applies("orders/transactions")
def apply_order_transactions(conn: psycopg.Connection, context: ChunkContext,
                             records: Sequence[ValidRecord]) -> list[Outcome]:
    """Return each order's transactions; fail the ids that name nothing."""
    ids = [r.data["orderId"] for r in records]
    orders = find_orders(conn, context.tenant_id, ids)
    rows = ledger.rows_by_source_id(conn, context.tenant_id, ids)
    outcomes = []
    for record in records:
        order_id = record.data["orderId"]
        order = orders.get(order_id)
        transactions = ([_payment(order)] if order else []) + [
            _transaction(row) for row in rows.get(order_id, ())]
        if transactions:
            outcomes.append(Outcome(record.index, True, FOUND, {"transactions": transactions}))
        else:
            outcomes.append(Outcome.failed(record.index, TRANSACTION_NOT_FOUND, (
                f"orderId: No order {order_id!r}, and no cashback, redemption or adjustment "
                "with it as transactionId.")))
    return outcomes


def _payment(order: StoredOrder) -> dict:
    """Return the order's payment as a transaction: money paid, no points of its own."""
    return {"type": "payment", "customerId": order.customer_id,
            "amount": _money(order.total_paid), "points": None, "reason": None,
            "time": iso(order.order_date), "recordedAt": iso(order.updated_at)}


def _transaction(row: ledger.Row) -> dict:
    """Return a ledger row as a transaction: its points, and the money they were for."""
    return {"type": TYPES[row.source], "customerId": row.customer_id,
            "amount": _money(row.amount), "points": row.points, "reason": row.reason,
            "time": iso(row.occurred_at), "recordedAt": iso(row.created_at)}


def _money(amount: Decimal | None) -> float | None:
    """Return an amount as a JSON number (None where the row recorded none)."""
    return None if amount is None else float(amount)
