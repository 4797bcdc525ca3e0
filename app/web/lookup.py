"""How the API answers for a job id: the caller's job, or the one 404 every other id gets.

An unknown id and another tenant's id must look exactly alike (invariant 6), so every
endpoint that takes a job id answers through here.
"""

from __future__ import annotations

import psycopg

from app.store import jobs
from app.web.errors import NOT_FOUND, ApiError


def job_not_found(job_id: str) -> ApiError:
    """Return the error for a job id the caller cannot see."""
    return ApiError(NOT_FOUND, f"No batch job {job_id!r}.")


def find_job(conn: psycopg.Connection, tenant_id: int, job_id: str) -> jobs.Job:
    """Return the tenant's job ``job_id``; raise the 404 if it has none by that id."""
    job = jobs.get_job(conn, job_id, tenant_id=tenant_id)
    if job is None:
        raise job_not_found(job_id)
    return job
