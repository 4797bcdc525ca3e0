"""One side of a job's outcomes (successful or failed records), a page at a time.

Outcomes live in their chunk rows as JSON arrays (stored as bytes) in record order; a page
is cut after the last record ``index`` a client has seen (a keyset, not an offset). Chunks
commit in any order, so a client paging while the job runs may pass records that commit
later: the list is complete once the job has ended.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

SIDES = ("successful", "failed")


def outcomes_page(conn: psycopg.Connection, job_id: int, side: str, *, after_index: int,
                  limit: int) -> list[dict]:
    """Return up to ``limit`` outcomes of ``side`` with an index above ``after_index``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    query = sql.SQL(
        "SELECT e.value FROM batch_chunks c"
        " CROSS JOIN LATERAL json_array_elements(convert_from(c.{side}, 'UTF8')::json) e"
        " WHERE c.job_id = %s AND c.done_at IS NOT NULL"
        # Chunks wholly at or before the cursor are skipped without reading their arrays.
        " AND c.first_index + c.record_count - 1 > %s"
        " AND (e.value->>'index')::int > %s"
        " ORDER BY (e.value->>'index')::int LIMIT %s"
    ).format(side=sql.Identifier(side))
    rows = conn.execute(query, (job_id, after_index, after_index, limit)).fetchall()
    return [row[0] for row in rows]
