"""The customer repository: reading a profile, and the customers other operations need.

Imports write profiles through ``workers.operations.customers``; orders, events and
cashback create the customers they name (an empty profile) with ``create_missing_customers``.
A profile is stored flat, whichever shape wrote it; it is read in the shape of Gameball's
published document: the top-level fields beside ``customerId`` and ``gameballId``, every
other attribute under ``customerAttributes``.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from app.store.jobs import iso
from schemas.customers import ATTRIBUTES, TOP_LEVEL_FIELDS, TOP_LEVEL_ONLY


def get_customer(conn: psycopg.Connection, tenant_id: int, customer_id: str) -> dict | None:
    """Return the tenant's customer as the API shows it, or None."""
    row = conn.execute(
        "SELECT gameball_id, profile, created_at, updated_at FROM customers"
        " WHERE tenant_id = %s AND customer_id = %s",
        (tenant_id, customer_id),
    ).fetchone()
    if row is None:
        return None
    gameball_id, profile, created_at, updated_at = row
    return {"customerId": customer_id, "gameballId": gameball_id,
            **{name: profile[name] for name in TOP_LEVEL_FIELDS if name in profile},
            ATTRIBUTES: {k: v for k, v in profile.items() if k not in TOP_LEVEL_ONLY},
            "createdAt": iso(created_at), "updatedAt": iso(updated_at)}


def known_customers(conn: psycopg.Connection, tenant_id: int, customer_ids: Iterable[str]
                    ) -> set[str]:
    """Return which of ``customer_ids`` the tenant has."""
    rows = conn.execute("SELECT customer_id FROM customers WHERE tenant_id = %s"
                        " AND customer_id = ANY(%s)", (tenant_id, list(set(customer_ids))))
    return {row[0] for row in rows}


def create_missing_customers(conn: psycopg.Connection, tenant_id: int,
                             customer_ids: Iterable[str]) -> set[str]:
    """Create an empty profile for each of ``customer_ids`` not stored yet; return those."""
    # Sorted, like every write of customer rows, so concurrent chunks never deadlock.
    rows = conn.execute(
        "INSERT INTO customers (tenant_id, customer_id, profile)"
        " SELECT %s, c, '{}' FROM unnest(%s::text[]) AS c ORDER BY c"
        " ON CONFLICT DO NOTHING RETURNING customer_id",
        (tenant_id, sorted(set(customer_ids))),
    )
    return {row[0] for row in rows}
