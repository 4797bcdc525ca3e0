"""Events: store each event of a record once, for its customer.

A record's events become one row each, keyed by (job, record, event name): storing the
same record again (a chunk delivered twice) stores nothing new. Unknown customers are
created (an empty profile), as Gameball does for a customer's first event.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb

from app.store.customers import create_missing_customers
from workers.operations import ChunkContext, Outcome, ValidRecord, applies

_INSERT = """
INSERT INTO customer_events (tenant_id, customer_id, event_name, metadata, job_id, record_index)
SELECT %s, e.customer_id, e.event_name, e.metadata, %s, e.record_index
FROM unnest(%s::text[], %s::text[], %s::jsonb[], %s::int[])
     AS e (customer_id, event_name, metadata, record_index)
ON CONFLICT DO NOTHING
"""


@applies("events")
def apply_events(conn: psycopg.Connection, context: ChunkContext,
                 records: Sequence[ValidRecord]) -> list[Outcome]:
    """Store every event of every record; return one outcome per record."""
    create_missing_customers(conn, context.tenant_id, (r.data["customerId"] for r in records))
    rows = [(r.data["customerId"], name, Jsonb(metadata), r.index)
            for r in records for name, metadata in r.data["events"].items()]
    conn.execute(_INSERT, (context.tenant_id, context.job_id, *map(list, zip(*rows))))
    return [Outcome(r.index, True, f"{len(r.data['events'])} event(s) recorded successfully",
                    {"events": len(r.data["events"])})
            for r in records]
