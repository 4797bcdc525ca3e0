"""What a GET of a job shows, read in one statement: the key pair's tenant, the job, its chunks.

This GET is what clients poll while their job runs. As separate statements in a
transaction it cost five round trips to PostgreSQL (BEGIN, the key pair, the job, the
chunks, COMMIT); as one statement, outside a transaction, it costs one, and all three are
read from the same snapshot. The job is joined only through the key pair's own tenant,
and nothing read is answered before the SecretKey is checked (``tenants.verified_tenant``).

A job of more than ``inline_max`` records (a bulk job) has its outcomes in result files, not
in its status: its chunks are not read, only, while it runs and Redis lost its live
counters, their sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.store import jobs, tenants
from app.store.statements import rendered


@dataclass(frozen=True)
class JobView:
    """The tenant of an active key pair whose SecretKey matched, its job, the job's chunks."""

    tenant: tenants.Tenant | None  # None: not an active pair, or the wrong SecretKey
    job: jobs.Job | None           # None: the tenant has no job by that id
    chunks: list[jobs.DoneChunk]   # the committed ones, in order; none while queued
    sums: tuple[int, int] | None = None  # a large running job's (finished, errors), if asked


_SQL = rendered(sql.SQL("""
SELECT {key_pair}, {job}, {chunk}, s.finished AS sums_finished, s.errors AS sums_errors
FROM {key_pair_tables}
LEFT JOIN batch_jobs j ON j.id = %s AND j.tenant_id = k.tenant_id
LEFT JOIN batch_chunks c ON c.job_id = j.id AND c.done_at IS NOT NULL AND j.status <> 'queued'
    AND j.total_count <= %s
LEFT JOIN LATERAL {sums} s ON j.status = 'running' AND j.total_count > %s AND %s
WHERE {active_key_pair}
ORDER BY c.chunk_no
""").format(key_pair=tenants.KEY_PAIR_COLUMNS, key_pair_tables=tenants.KEY_PAIR_TABLES,
            active_key_pair=tenants.ACTIVE_KEY_PAIR, sums=jobs.CHUNK_SUMS,
            job=jobs.select_list(jobs.JOB_FIELDS, "j", alias_prefix="job_"),
            chunk=jobs.select_list(jobs.DONE_CHUNK_FIELDS, "c", alias_prefix="chunk_")))


def read_job_view(conn: psycopg.Connection, api_key: str, secret_key: str, job_id: int, *,
                  inline_max: int, sums: bool = True) -> JobView:
    """Read what GET /batch/{job_id} shows to this key pair, in one statement: the chunks of
    a job of at most ``inline_max`` records, else (if ``sums``, while it runs) their sums."""
    params = (job_id, inline_max, inline_max, sums, tenants.digest(api_key))
    with conn.cursor(row_factory=dict_row, binary=True) as cursor:
        rows = cursor.execute(_SQL, params).fetchall()
    tenant = tenants.verified_tenant(rows[0] if rows else None, secret_key)
    if tenant is None:
        return JobView(None, None, [])
    first = rows[0]
    if first["job_id"] is None:  # no job of this tenant's by that id
        return JobView(tenant, None, [])
    job = jobs.Job(**_part(first, "job_", jobs.JOB_FIELDS))
    chunks = [jobs.done_chunk(**_part(row, "chunk_", jobs.DONE_CHUNK_FIELDS)) for row in rows
              if row["chunk_chunk_no"] is not None]  # a committed chunk
    sums = None if first["sums_finished"] is None else (first["sums_finished"],
                                                         first["sums_errors"])
    return JobView(tenant, job, chunks, sums)


def _part(row: dict, prefix: str, names: tuple[str, ...]) -> dict:
    """Return the columns of one table read under ``prefix``, by their own names."""
    return {name: row[prefix + name] for name in names}
