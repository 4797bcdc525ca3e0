"""Customers: create or update profiles by (tenant, customerId), set-based.

One ``INSERT .. SELECT FROM unnest(..) ORDER BY customer_id .. ON CONFLICT DO UPDATE``
applies a whole chunk. Sorting the keys makes every transaction lock rows in the same
order, so concurrent jobs touching the same customers wait for each other instead of
deadlocking. The stored profile is a JSON document merged with ``||``: fields present
overwrite, fields absent stay, ``custom`` is merged key by key, ``tags`` is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb

from schemas.customers import customer_schema
from workers.operations import Operation, Outcome, ValidRecord, register

CREATED = "Customer created successfully"
UPDATED = "Customer updated successfully"

# How a stored profile takes a new version: fields present overwrite, ``custom`` is merged
# key by key. Shared with the benchmark's reference upserts, so they do the same work.
MERGE_ON_CONFLICT = """
ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
    profile = CASE
        WHEN jsonb_typeof(c.profile -> 'custom') = 'object'
         AND jsonb_typeof(EXCLUDED.profile -> 'custom') = 'object'
        THEN c.profile || EXCLUDED.profile
             || jsonb_build_object('custom', (c.profile -> 'custom') || (EXCLUDED.profile -> 'custom'))
        ELSE c.profile || EXCLUDED.profile
    END,
    updated_at = now()
"""

_UPSERT = """
INSERT INTO customers AS c (tenant_id, customer_id, profile)
SELECT %s, s.customer_id, s.profile
FROM unnest(%s::text[], %s::jsonb[]) AS s (customer_id, profile)
ORDER BY s.customer_id""" + MERGE_ON_CONFLICT + """RETURNING customer_id, (xmax = 0) AS created
"""


def apply_customers(conn: psycopg.Connection, tenant_id: int,
                    records: Sequence[ValidRecord]) -> list[Outcome]:
    """Upsert the records (customerIds unique among them); return one outcome each."""
    ids = [r.data["customerId"] for r in records]
    profiles = [Jsonb({k: v for k, v in r.data.items() if k != "customerId"}) for r in records]
    created = dict(conn.execute(_UPSERT, (tenant_id, ids, profiles)).fetchall())
    return [Outcome(r.index, True, CREATED if created[r.data["customerId"]] else UPDATED)
            for r in records]


OPERATION = register(Operation(
    name="customers",
    title="Customer Creation Batch Job",
    schema=customer_schema,
    apply=apply_customers,
    unique_field="customerId",
))
