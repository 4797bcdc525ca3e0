"""Storing a submitted job with what the request asked beyond its records: a completion
webhook (``callbackUrl``) and idempotency (``Idempotency-Key``).

Three kinds of request create a job: a JSON request (its records in hand before anything is
stored), a streamed upload (its records stored as they arrive, so that what identifies the
request, the SHA-256 of its bytes, is known only once they are in), and the opening of a
multi-part upload (no records yet). All three commit the job, its callback and its key in
one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from flask import request

from app.error_codes import IDEMPOTENCY_KEY_REUSED, INVALID_VALUE
from app.services import Services
from app.store import callbacks, jobs, tenants
from app.store.idempotency import KeyReused, Submission, fingerprint, submit_once
from app.web.errors import ApiError
from app.web.params import load_params
from schemas.queries import SubmitOptionsSchema

CALLBACK_HEADER = "X-Callback-URL"
IDEMPOTENCY_HEADER = "Idempotency-Key"

_options_schema = SubmitOptionsSchema()

# Stores a job's rows in the transaction given; returns its id.
CreateJob = Callable[[psycopg.Connection], int]


def store_submission(services: Services, tenant: tenants.Tenant, operation: str,
                     records: jobs.Records) -> Submission:
    """Commit a JSON request's job (or find the one its Idempotency-Key names); return it."""
    # Of the records' values, not their bytes: a resend spaced differently is the same.
    return submit_job(services, tenant, operation,
                      lambda conn: jobs.store_job(conn, tenant.id, operation, records),
                      lambda: (records.parsed(),))


def submit_job(services: Services, tenant: tenants.Tenant, operation: str,
               create_job: CreateJob, identity: Callable[[], tuple]) -> Submission:
    """Commit the job ``create_job`` stores, unless the Idempotency-Key names one already.

    ``identity()`` is what tells this request from another besides its operation and
    callback, asked only when a key is given.
    """
    options = _read_options()
    callback_url = options.get("callbackUrl")

    def create(conn: psycopg.Connection) -> int:
        job_id = create_job(conn)
        if callback_url:
            callbacks.attach(conn, job_id, callback_url, tenant.secret_key_digest)
        return job_id

    with services.db.transaction() as conn:
        key = options.get("idempotencyKey")
        if key is None:
            return Submission(create(conn), replayed=False)
        return _once(conn, services, tenant, key, fingerprint(operation, callback_url, *identity()),
                     lambda: create(conn))


def submit_upload(services: Services, tenant: tenants.Tenant, operation: str,
                  store: Callable[[psycopg.Connection], tuple[int, bytes]]) -> Submission:
    """Commit the job ``store`` streams in (returning its id and its bytes' SHA-256), unless
    the Idempotency-Key names a job already: then what was streamed is rolled back."""
    options = _read_options()
    callback_url = options.get("callbackUrl")
    key = options.get("idempotencyKey")
    try:
        with services.db.transaction() as conn:
            job_id, digest = store(conn)
            if callback_url:
                callbacks.attach(conn, job_id, callback_url, tenant.secret_key_digest)
            if key is None:
                return Submission(job_id, replayed=False)
            submission = _once(conn, services, tenant, key,
                               fingerprint(operation, callback_url, "upload", digest.hex()),
                               lambda: job_id)
            if submission.replayed:
                raise _Replayed(submission)
            return submission
    except _Replayed as replayed:
        return replayed.submission


class _Replayed(Exception):
    """The key names an earlier job: leave the transaction, rolling this upload back."""

    def __init__(self, submission: Submission) -> None:
        super().__init__(submission.job_id)
        self.submission = submission


def _once(conn: psycopg.Connection, services: Services, tenant: tenants.Tenant, key: str,
          request_fingerprint: bytes, create_job: Callable[[], int]) -> Submission:
    try:
        return submit_once(conn, tenant.id, key, request_fingerprint,
                           services.config.IDEMPOTENCY_KEY_TTL_HOURS, create_job)
    except KeyReused as reused:
        raise ApiError(IDEMPOTENCY_KEY_REUSED,
                       f"Idempotency-Key {key!r} was used for job {reused.job_id} with a "
                       "different request; use a new key for a new request.") from None


def _read_options() -> dict:
    """Read the callback URL (query parameter or header) and the Idempotency-Key header."""
    query_url = request.args.get("callbackUrl")
    header_url = request.headers.get(CALLBACK_HEADER)
    if query_url is not None and header_url is not None and query_url != header_url:
        raise ApiError(INVALID_VALUE, f"callbackUrl and the {CALLBACK_HEADER} header differ; "
                                    "send one of them.")
    raw = {"callbackUrl": query_url if query_url is not None else header_url,
           "idempotencyKey": request.headers.get(IDEMPOTENCY_HEADER)}
    return load_params(_options_schema, {k: v for k, v in raw.items() if v is not None},
                       "callbackUrl or Idempotency-Key")
