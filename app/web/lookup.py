"""How the API answers for a job id (or an operation's name): the caller's job, or the one 404
every other id gets.

A path names a job by its integer id, or by the hexadecimal id jobs had before their ids
became integers (kept as ``legacy_id``: a client that stored one still finds its job). An
unknown id, a malformed one and another tenant's id must look exactly alike (invariant 6),
so every endpoint that takes a job id answers through here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import psycopg
import redis

from app.catalogue import OPERATIONS, Operation, get_operation
from app.domain import stopping
from app.error_codes import NOT_FOUND, STATE_CONFLICT
from app.services import Services
from app.store import jobs
from app.store.job_view import read_job_view
from app.web.auth import accept, admit_request, authenticate_request
from app.web.errors import ApiError

log = logging.getLogger(__name__)

_INTEGER = re.compile(r"[1-9][0-9]{0,15}")
_LEGACY = re.compile(r"[0-9a-f]{32}")
# No job has it (ids start at 1): what a path naming no job resolves to.
NO_JOB = 0
# How routes document a job id in their path.
JOB_ID = {"job_id": {"description": "The jobId a submission answered (the hexadecimal id of a "
                                    "job from before integer ids works too).",
                     "schema": {"type": "integer", "minimum": 1, "maximum": jobs.MAX_JOB_ID}}}


def resolve_job_id(services: Services, raw: str) -> int:
    """Return the id of the job a path names, or ``NO_JOB``: a legacy id costs one statement."""
    if _INTEGER.fullmatch(raw):
        number = int(raw)
        return number if number <= jobs.MAX_JOB_ID else NO_JOB
    if _LEGACY.fullmatch(raw):
        with services.db.statement() as conn:
            return jobs.id_of_legacy(conn, raw) or NO_JOB
    return NO_JOB


def known_operation(name: str) -> Operation:
    """Return the catalogue's operation called ``name``; raise the 404 if there is none."""
    operation = get_operation(name)
    if operation is None:
        raise ApiError(NOT_FOUND, f"No batch operation {name!r}; "
                                  f"available: {', '.join(sorted(OPERATIONS))}.")
    return operation


def job_not_found(raw: str | int) -> ApiError:
    """Return the error for a job id the caller cannot see."""
    return ApiError(NOT_FOUND, f"No batch job {str(raw)!r}.")


def find_job(conn: psycopg.Connection, tenant_id: int, job_id: int, raw: str | int) -> jobs.Job:
    """Return the tenant's job ``job_id``; raise the 404 (naming ``raw``) if it has none."""
    job = jobs.get_job(conn, job_id, tenant_id=tenant_id)
    if job is None:
        raise job_not_found(raw)
    return job


@dataclass(frozen=True)
class SeenJob:
    """A job as its tenant sees it now: the row, its committed chunks, its live counts."""

    job: jobs.Job
    chunks: list[jobs.DoneChunk]
    live_counts: tuple[int, int] | None


def read_own_job(services: Services, raw: str) -> SeenJob:
    """Return the caller's job named by ``raw``: 401 for bad keys, 404 for no such job.

    One statement reads the key pair, the job and its chunks (``app.store.job_view``): this
    is what clients poll while their job runs.
    """
    keys = admit_request(services)
    job_id = resolve_job_id(services, raw)
    # Live counts are read before the chunks, so they never exceed the outcomes listed; and
    # before the statement, so that no pooled connection waits on Redis. They are answered
    # only if the key pair then proves to be the job's tenant's.
    live = _live_counts(services, job_id) if job_id != NO_JOB else None
    with services.db.statement() as conn:
        view = read_job_view(conn, keys.api_key, keys.secret_key, job_id,
                             inline_max=services.config.MAX_RECORDS_PER_REQUEST,
                             sums=live is None)
    accept(view.tenant)
    if view.job is None:
        raise job_not_found(raw)
    return SeenJob(view.job, view.chunks, live or view.sums)


def stop_own_job(services: Services, raw: str) -> jobs.StopResult:
    """Stop the caller's job named by ``raw`` (DELETE and the documented POST stop alike):
    once this returns, no record of it is applied. 404 if none, 409 if it already ended."""
    tenant = authenticate_request(services)
    result = stopping.stop_job(services, resolve_job_id(services, raw), tenant_id=tenant.id,
                               by=f"tenant {tenant.name}",
                               chunks_up_to=services.config.MAX_RECORDS_PER_REQUEST)
    if result.job is None:
        raise job_not_found(raw)
    if result.refused:
        raise ApiError(STATE_CONFLICT, f"Job {raw} is already {result.job.status}; only a "
                                      "queued or running job can be stopped.")
    return result


def _live_counts(services: Services, job_id: int) -> tuple[int, int] | None:
    try:
        return services.progress.counts(job_id)
    except redis.RedisError as error:
        log.warning("live counters of job %s unavailable: %s", job_id, error)
        return None
