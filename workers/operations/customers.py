"""Customers: create or update profiles by (tenant, customerId), set-based.

A chunk's records travel as one JSON array, a single parameter of one ``INSERT .. SELECT ..
FROM jsonb_array_elements .. ORDER BY customer_id .. ON CONFLICT DO UPDATE``: orjson writes
the array in one call, where COPY into a staging table cost a Python call and an escape per
row (twice the client CPU, for the same work in PostgreSQL), and nothing is left in a
staging table between two upserts of one transaction. Sorting the keys makes every
transaction lock rows in the same order, so concurrent jobs touching the same customers
wait for each other instead of deadlocking. The stored profile is a JSON document merged
with ``||``: fields present overwrite, fields absent stay, ``custom`` is merged key by
key, ``tags`` is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import psycopg

from workers.operations import ChunkContext, Outcome, ValidRecord, applies

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

# The upsert of a chunk: its tenant, then its records as one JSON array. Shared with the
# benchmark's limit too, which feeds PostgreSQL the same way.
UPSERT_ARRAY = """
INSERT INTO customers AS c (tenant_id, customer_id, profile)
SELECT %s, record ->> 'customerId', record - 'customerId'
FROM jsonb_array_elements(%s::jsonb) AS records(record)
ORDER BY record ->> 'customerId'""" + MERGE_ON_CONFLICT
_UPSERT = UPSERT_ARRAY + "RETURNING customer_id, (xmax = 0) AS created"


@applies("customers")
def apply_customers(conn: psycopg.Connection, context: ChunkContext,
                    records: Sequence[ValidRecord]) -> list[Outcome]:
    """Upsert the records (customerIds unique among them); return one outcome each."""
    # orjson writes the loaded dates as ISO 8601 text, as they were sent.
    loaded = orjson.dumps([record.data for record in records]).decode()
    created = dict(conn.execute(_UPSERT, (context.tenant_id, loaded)).fetchall())
    return [Outcome(r.index, True, CREATED if created[r.data["customerId"]] else UPDATED)
            for r in records]
