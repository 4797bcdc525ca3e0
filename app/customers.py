"""The customer repository: reading a stored profile (imports write through operations)."""

from __future__ import annotations

import psycopg

from app.jobs import iso


def get_customer(conn: psycopg.Connection, tenant_id: int, customer_id: str) -> dict | None:
    """Return the tenant's customer as the API shows it, or None."""
    row = conn.execute(
        "SELECT profile, created_at, updated_at FROM customers"
        " WHERE tenant_id = %s AND customer_id = %s",
        (tenant_id, customer_id),
    ).fetchone()
    if row is None:
        return None
    profile, created_at, updated_at = row
    return {"customerId": customer_id, **profile,
            "createdAt": iso(created_at), "updatedAt": iso(updated_at)}
