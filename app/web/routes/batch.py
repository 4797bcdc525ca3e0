"""The batch job endpoints of the seed's tutorial: submit (``POST /batch/{operation}``), watch
(``GET /batch/{jobId}``) and stop (``DELETE /batch/{jobId}``) a job. The published document's
other pair of paths is ``app.web.routes.batches``.

An operation's name is one path segment, except the published document's
``orders/transactions``: the ``operation`` converter matches exactly one segment or one of the
catalogue's names with a slash, so ``POST /batch/{jobId}/failed`` still finds no operation
and answers 405 as before, not 404."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, request, url_for
from werkzeug.routing import BaseConverter

from app.catalogue import OPERATIONS, title_of
from app.domain.status import status_body
from app.error_codes import UNSUPPORTED_TYPE
from app.messaging import queue
from app.observability import logs
from app.services import Services, current_services
from app.store import jobs
from app.web.auth import authenticate_request
from app.web.batch_body import read_records
from app.web.body import read_body
from app.web.errors import ApiError
from app.web.jsonio import json_response
from app.web.lookup import JOB_ID, known_operation, read_own_job, stop_own_job
from app.web.openapi import documented
from app.web.submission import store_submission
from app.web.uploads import UPLOAD_TYPES, submit_streamed, upload_format
from schemas.envelope import request_schema
from schemas.jobs import JobCreatedSchema, JobStatusSchema
from schemas.queries import CallbackQuerySchema

log = logging.getLogger(__name__)

batch_bp = Blueprint("batch", __name__, url_prefix="/api/v4.0/integrations")


class OperationConverter(BaseConverter):
    """An operation's name in a path: one segment, or a catalogue name holding a slash."""

    part_isolating = False  # it may match a "/"
    regex = "|".join([*(re.escape(name) for name in sorted(OPERATIONS, reverse=True)
                        if "/" in name), "[^/]+"])


@batch_bp.record_once
def _register_converter(state) -> None:
    # Before the routes below: a rule is compiled with its converters when it is added.
    state.app.url_map.converters["operation"] = OperationConverter


def operation_requests(app) -> dict:
    """Return each registered operation's documented request schema, by URL name."""
    limit = app.config["MAX_RECORDS_PER_REQUEST"]
    # A schema's name, from the operation's: orders/transactions gives OrdersTransactions.
    return {name: request_schema(name.title().replace("/", ""), op.record_field(), limit)
            for name, op in OPERATIONS.items()}


@batch_bp.post("/batch/<operation:operation>")
@documented(
    "Submit records as a batch job",
    description="The job and all its records are committed before the answer; each record is "
                "then validated and applied by the workers, and gets its own outcome. "
                "An `Idempotency-Key` header (1-255 printable ASCII) makes a resend of the "
                "same request answer the first job again (with `Idempotent-Replayed: true`); "
                "the same key with another request answers 422. `callbackUrl` (or the "
                "`X-Callback-URL` header) receives the final status body, signed, when the "
                "job ends. A bulk job of any size is the same request with an NDJSON "
                "(`application/x-ndjson`) or CSV (`text/csv`) body instead, streamed in "
                "(docs/bulk.md).",
    query=CallbackQuerySchema,
    expand=("operation", operation_requests),
    request_types=tuple(UPLOAD_TYPES),
    responses={200: (JobCreatedSchema, "The job is stored and queued."),
               400: "The body is not valid JSON (3016), or has no `body` (3000); an upload "
                    "holds no record, has a CSV header without names, or was cut off (3016).",
               404: "No such operation.",
               413: "The body is larger than MAX_BODY_BYTES (an upload: BULK_MAX_BYTES).",
               415: "Content-Type is not application/json, application/x-ndjson or text/csv.",
               422: "More records than MAX_RECORDS_PER_REQUEST (an upload: BULK_MAX_RECORDS) "
                    "(3011), callbackUrl or Idempotency-Key not valid (3003), or the "
                    "Idempotency-Key used with a different request (4022).",
               429: "Too many requests for this key, or (an upload) BULK_MAX_ACTIVE_JOBS "
                    "bulk jobs already (4029); wait Retry-After seconds."},
    headers={200: ("Location",)},
    tags=("batch",),
)
def submit_job(operation: str) -> Response:
    """Store the records of a new job, then enqueue it; answer 200 with its id."""
    services = current_services()
    tenant = authenticate_request(services)
    known = known_operation(operation)
    fmt = upload_format()
    if fmt is not None:
        submission = submit_streamed(services, tenant, operation, fmt)
        what = f"a {fmt} upload"
    else:
        records = _read_envelope(services, known.record_type)
        submission = store_submission(services, tenant, operation, records)
        what = f"{records.count} records"
    job_id = submission.job_id
    logs.bind(jobId=job_id)
    headers = {"Location": url_for("batch.show_job", job_id=job_id)}
    if submission.replayed:
        # The first request's answer again (its job was enqueued then): Stripe's header.
        headers["Idempotent-Replayed"] = "true"
        log.info("job %s answered again for its Idempotency-Key", job_id)
    else:
        # Committed: from here the job survives anything, even a broker that is down now.
        queue.enqueue_job(services.celery, job_id,
                          queue=queue.job_queue(services.config, bulk=fmt is not None))
        log.info("job %s submitted: %s, %s", job_id, operation, what)
    return json_response({"jobId": job_id, "status": "queued"}, 200, headers)


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
    seen = read_own_job(services, job_id)
    return json_response(status_body(seen.job, title_of(seen.job.operation), seen.chunks,
                                     seen.live_counts,
                                     inline_max=services.config.MAX_RECORDS_PER_REQUEST))


@batch_bp.delete("/batch/<job_id>")
@documented(
    "Stop a queued or running job, or discard an open upload",
    description="Once this answers, no further record of the job is applied; the counts "
                "answered are final. Stopping a stopped job answers the same again. An open "
                "upload is discarded: its parts are deleted, the job stays, stopped.",
    path_params=JOB_ID,
    responses={200: JobStatusSchema, 404: "No such job (another tenant's included).",
               409: "The job already completed or failed, or a part of the upload is being "
                    "stored (4009)."},
    tags=("batch",),
)
def stop_job(job_id: str) -> Response:
    """Stop the job: no record is applied after this answers, and its counts are final."""
    services = current_services()
    result = stop_own_job(services, job_id)
    return json_response(status_body(result.job, title_of(result.job.operation), result.chunks,
                                     inline_max=services.config.MAX_RECORDS_PER_REQUEST))


def _read_envelope(services: Services, record_type: str) -> jobs.Records:
    """Read the request's records, within the body and record limits (app/web/batch_body.py)."""
    if request.mimetype != "application/json":
        raise ApiError(UNSUPPORTED_TYPE, "Send the body as JSON (Content-Type: application/json)"
                                         ", or upload NDJSON (application/x-ndjson) or CSV "
                                         "(text/csv).")
    body = read_body(services.config.MAX_CONTENT_LENGTH)
    return read_records(body, services.config.MAX_RECORDS_PER_REQUEST, record_type)
