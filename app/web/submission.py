"""Storing a submitted job with what the request asked beyond its records: a completion
webhook (``callbackUrl``) and idempotency (``Idempotency-Key``)."""

from __future__ import annotations

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


def store_submission(services: Services, tenant: tenants.Tenant, operation: str,
                     records: jobs.Records) -> Submission:
    """Commit the job (or find the one this Idempotency-Key names); return it."""
    options = _read_options()
    callback_url = options.get("callbackUrl")

    def create_job() -> str:
        job_id = jobs.store_job(conn, tenant.id, operation, records)
        if callback_url:
            callbacks.attach(conn, job_id, callback_url, tenant.secret_key_digest)
        return job_id

    with services.db.transaction() as conn:
        key = options.get("idempotencyKey")
        if key is None:
            return Submission(create_job(), replayed=False)
        # Of the records' values, not their bytes: a resend spaced differently is the same.
        request_fingerprint = fingerprint(operation, callback_url, records.parsed())
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
