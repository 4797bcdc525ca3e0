"""What a GET of a job shows, read in one statement: the key pair's tenant, the job, its chunks.

This GET is what clients poll while their job runs. As separate statements in a
transaction it cost five round trips to PostgreSQL (BEGIN, the key pair, the job, the
chunks, COMMIT); as one statement, outside a transaction, it costs one, and all three are
read from the same snapshot. The job is joined only through the key pair's own tenant,
and nothing read is answered before the SecretKey is checked (``tenants.verified_tenant``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import psycopg

from app import jobs, tenants


@dataclass(frozen=True)
class JobView:
    """The tenant of an active key pair whose SecretKey matched, its job, the job's chunks."""

    tenant: tenants.Tenant | None  # None: not an active pair, or the wrong SecretKey
    job: jobs.Job | None           # None: the tenant has no job by that id
    chunks: list[jobs.DoneChunk]   # the committed ones, in order; none while queued


# Where each part of a row starts: the key pair's columns (verified_tenant reads them),
# then a Job's fields, then a DoneChunk's.
_JOB_START = len(tenants.KEY_PAIR_FIELDS)
_CHUNK_START = _JOB_START + len(fields(jobs.Job))
_SQL = f"""
SELECT {tenants.KEY_PAIR_COLUMNS}, {jobs.job_columns("j")},
       {jobs.done_chunk_columns("c")}
FROM {tenants.KEY_PAIR_TABLES}
LEFT JOIN batch_jobs j ON j.id = %s AND j.tenant_id = k.tenant_id
LEFT JOIN batch_chunks c ON c.job_id = j.id AND c.done_at IS NOT NULL AND j.status <> 'queued'
WHERE {tenants.ACTIVE_KEY_PAIR}
ORDER BY c.chunk_no
"""


def read_job_view(conn: psycopg.Connection, api_key: str, secret_key: str,
                  job_id: str) -> JobView:
    """Read what GET /batch/{job_id} shows to this key pair, in one statement."""
    rows = conn.execute(_SQL, (job_id, tenants.digest(api_key)), binary=True).fetchall()
    tenant = tenants.verified_tenant(rows[0][:_JOB_START] if rows else None, secret_key)
    if tenant is None:
        return JobView(None, None, [])
    first = rows[0]
    if first[_JOB_START] is None:  # the job's id column: no job of this tenant's
        return JobView(tenant, None, [])
    job = jobs.Job(*first[_JOB_START:_CHUNK_START])
    chunks = [jobs.done_chunk(row[_CHUNK_START:]) for row in rows
              if row[_CHUNK_START] is not None]  # the chunk_no column: a committed chunk
    return JobView(tenant, job, chunks)
