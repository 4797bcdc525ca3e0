"""The batch job endpoints: submit, watch and stop a job."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, request, url_for

from app.catalogue import OPERATIONS, get_operation, title_of
from app.domain import stopping
from app.domain.status import status_body
from app.messaging import queue
from app.observability import logs
from app.services import Services, current_services
from app.store import jobs
from app.store.job_view import read_job_view
from app.web.auth import accept, admit_request, authenticate_request
from app.web.batch_body import read_records
from app.web.body import read_body
from app.web.errors import CONFLICT, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, ApiError
from app.web.jsonio import json_response
from app.web.lookup import job_not_found
from app.web.openapi import documented
from app.web.submission import store_submission
from schemas.envelope import request_schema
from schemas.jobs import JobCreatedSchema, JobStatusSchema
from schemas.queries import CallbackQuerySchema

log = logging.getLogger(__name__)

batch_bp = Blueprint("batch", __name__, url_prefix="/api/v4.0/integrations")

JOB_ID = {"job_id": "The id a submission answered."}


def operation_requests(app) -> dict:
    """Return each registered operation's documented request schema, by URL name."""
    limit = app.config["MAX_RECORDS_PER_REQUEST"]
    return {name: request_schema(name.title(), op.schema, limit) for name, op in OPERATIONS.items()}


@batch_bp.post("/batch/<operation>")
@documented(
    "Submit records as a batch job",
    description="The job and all its records are committed before the answer; each record is "
                "then validated and applied by the workers, and gets its own outcome. "
                "An `Idempotency-Key` header (1-255 printable ASCII) makes a resend of the "
                "same request answer the first job again (with `Idempotent-Replayed: true`); "
                "the same key with another request answers 422. `callbackUrl` (or the "
                "`X-Callback-URL` header) receives the final status body, signed, when the "
                "job ends.",
    query=CallbackQuerySchema,
    expand=("operation", operation_requests),
    responses={202: (JobCreatedSchema, "The job is stored and queued."),
               400: "The body is not valid JSON, or the envelope is wrong.",
               404: "No such operation.",
               422: "The Idempotency-Key was used with a different request.",
               413: "The body is larger than MAX_BODY_BYTES, or holds too many records.",
               415: "Content-Type is not application/json."},
    headers={202: ("Location",)},
    tags=("batch",),
)
def submit_job(operation: str) -> Response:
    """Store the records of a new job, then enqueue it; answer 202 with its id."""
    services = current_services()
    tenant = authenticate_request(services)
    if get_operation(operation) is None:
        raise ApiError(NOT_FOUND, f"No batch operation {operation!r}; "
                                  f"available: {', '.join(sorted(OPERATIONS))}.")
    records = _read_envelope(services)
    submission = store_submission(services, tenant, operation, records)
    job_id = submission.job_id
    logs.bind(jobId=job_id)
    headers = {"Location": url_for("batch.show_job", job_id=job_id)}
    if submission.replayed:
        # The first request's answer again (its job was enqueued then): Stripe's header.
        headers["Idempotent-Replayed"] = "true"
        log.info("job %s answered again for its Idempotency-Key", job_id)
    else:
        # Committed: from here the job survives anything, even a broker that is down now.
        queue.enqueue_job(services.celery, job_id)
        log.info("job %s submitted: %s, %d records", job_id, operation, records.count)
    return json_response({"jobId": job_id, "status": "queued"}, 202, headers)


@batch_bp.get("/batch/<job_id>")
@documented(
    "Show a job's status, counts and record outcomes",
    path_params=JOB_ID,
    responses={200: JobStatusSchema, 404: "No such job (another tenant's included)."},
    tags=("batch",),
)
def show_job(job_id: str) -> Response:
    """Return the job's status, counts and the records' outcomes so far."""
    services = current_services()
    keys = admit_request(services)
    # Live counts are read before the chunks, so they never exceed the outcomes listed; and
    # before the statement, so that no pooled connection waits on Redis. They are answered
    # only if the key pair then proves to be the job's tenant's.
    live = _live_counts(services, job_id)
    # One statement for the key pair, the job and its chunks (app/store/job_view.py): this GET
    # is what clients poll while their job runs.
    with services.db.statement() as conn:
        view = read_job_view(conn, keys.api_key, keys.secret_key, job_id)
    accept(view.tenant)
    if view.job is None:
        raise job_not_found(job_id)
    return json_response(status_body(view.job, title_of(view.job.operation), view.chunks, live))


@batch_bp.delete("/batch/<job_id>")
@documented(
    "Stop a queued or running job",
    description="Once this answers, no further record of the job is applied; the counts "
                "answered are final. Stopping a stopped job answers the same again.",
    path_params=JOB_ID,
    responses={200: JobStatusSchema, 404: "No such job (another tenant's included).",
               409: "The job already completed or failed."},
    tags=("batch",),
)
def stop_job(job_id: str) -> Response:
    """Stop the job: no record is applied after this answers, and its counts are final."""
    services = current_services()
    tenant = authenticate_request(services)
    result = stopping.stop_job(services, job_id, tenant_id=tenant.id, by=f"tenant {tenant.name}",
                               with_chunks=True)
    if result.job is None:
        raise job_not_found(job_id)
    job = result.job
    if result.refused:
        raise ApiError(CONFLICT, f"Job {job_id} is already {job.status}; only a queued or "
                                 "running job can be stopped.")
    return json_response(status_body(job, title_of(job.operation), result.chunks))


def _read_envelope(services: Services) -> jobs.Records:
    """Read the request's records, within the body and record limits (app/web/batch_body.py)."""
    if request.mimetype != "application/json":
        raise ApiError(UNSUPPORTED_MEDIA_TYPE, "Send the body as JSON, with "
                                               "Content-Type: application/json.")
    body = read_body(services.config.MAX_CONTENT_LENGTH)
    return read_records(body, services.config.MAX_RECORDS_PER_REQUEST)


def _live_counts(services: Services, job_id: str) -> tuple[int, int] | None:
    try:
        return services.progress.counts(job_id)
    except redis.RedisError as error:
        log.warning("live counters of job %s unavailable: %s", job_id, error)
        return None

