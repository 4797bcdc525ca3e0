"""The limit: the same upserts straight into PostgreSQL from one process, as fast as psycopg 3 goes.

Each chunk of 1,000 customers is one transaction and one ``INSERT .. SELECT .. ORDER BY ..
ON CONFLICT DO UPDATE`` with the service's own merge of profiles, fed one of two ways:
``copy``, COPY into a temporary staging table first (what the issue names as the fastest),
or ``json``, the chunk as one JSON array parameter (what the service does: the same work
in PostgreSQL for half the client CPU). The benchmark runs both and holds the service to
the faster. No HTTP, no queue, no validation, no outcomes: what is left is the database's
work and the least Python that feeds it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import orjson
import psycopg

from bench.results import Run
from workers.operations.customers import MERGE_ON_CONFLICT, UPSERT_ARRAY

WAYS = ("copy", "json")
_STAGING = "CREATE TEMP TABLE IF NOT EXISTS limit_staging (customer_id text, profile jsonb) ON COMMIT DELETE ROWS"
_UPSERT_STAGED = ("INSERT INTO customers AS c (tenant_id, customer_id, profile)"
                  " SELECT %s, s.customer_id, s.profile FROM limit_staging s ORDER BY s.customer_id "
                  + MERGE_ON_CONFLICT)


def run_key(way: str, kind: str) -> str:
    """Name the run of ``way`` for ``kind`` (inserts, updates): COPY's keeps its old name."""
    return f"limit_{kind}" if way == "copy" else f"limit_{way}_{kind}"


def upsert_directly(conn: psycopg.Connection, tenant_id: int, batches: Iterable[list[dict]],
                    name: str, way: str = "copy") -> Run:
    """Upsert ``batches`` (one transaction each; a list, or made as they are needed); return
    the run with its per-chunk timeline."""
    conn.execute(_STAGING)
    conn.commit()
    started = time.time()
    timeline = []
    records = 0
    for batch in batches:
        if way == "copy":
            with conn.cursor() as cur:
                with cur.copy("COPY limit_staging (customer_id, profile) FROM STDIN") as copy:
                    for record in batch:
                        profile = {k: v for k, v in record.items() if k != "customerId"}
                        copy.write_row((record["customerId"], orjson.dumps(profile).decode()))
                cur.execute(_UPSERT_STAGED, (tenant_id,))
        else:
            conn.execute(UPSERT_ARRAY, (tenant_id, orjson.dumps(batch).decode()))
        conn.commit()
        timeline.append((time.time(), len(batch)))
        records += len(batch)
    seconds = time.time() - started
    return Run(name=name, records=records, seconds=seconds, started=started, timeline=timeline)
