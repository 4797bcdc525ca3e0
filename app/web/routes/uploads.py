"""The multi-part upload of a bulk job: open it, store its parts (each may be sent again,
replacing itself), see which parts are in, close it (which queues the job). Discarding an
open upload is the job's DELETE (``app.web.routes.batch``). How it works: ``app.web.uploads``.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, url_for

from app.catalogue import OPERATIONS
from app.messaging import queue
from app.observability import logs
from app.services import current_services
from app.store import uploads as stored_uploads
from app.web import uploads
from app.web.auth import authenticate_request
from app.web.jsonio import json_response
from app.web.lookup import JOB_ID, find_job, known_operation, resolve_job_id
from app.web.openapi import documented
from schemas.queries import CallbackQuerySchema
from schemas.uploads import PartsSchema, StoredPartSchema, UploadClosedSchema, UploadOpenedSchema

log = logging.getLogger(__name__)

uploads_bp = Blueprint("uploads", __name__, url_prefix="/api/v4.0/integrations")

PART_NO = {"part_no": {"description": "The part's number: parts are numbered in the order "
                                      "their records are to be indexed.",
                       "schema": {"type": "integer", "minimum": 1, "maximum": 10_000}}}


@uploads_bp.post("/batch/<operation:operation>/uploads")
@documented(
    "Open a multi-part upload of a bulk job",
    description="Creates an `open` job; send its records as numbered parts "
                "(PUT /batch/{jobId}/parts/{n}), then close it. An `Idempotency-Key` opens "
                "the same upload again; `callbackUrl` receives the final status.",
    query=CallbackQuerySchema,
    expand=("operation", lambda app: dict.fromkeys(OPERATIONS)),
    responses={200: (UploadOpenedSchema, "The upload is open."),
               404: "No such operation.",
               422: "callbackUrl or Idempotency-Key not valid (3003), or the key used "
                    "before with another request (4022).",
               429: "Too many requests for this key, or BULK_MAX_ACTIVE_JOBS bulk jobs "
                    "already (4029); wait Retry-After seconds."},
    headers={200: ("Location",)},
    tags=("bulk",),
)
def open_upload(operation: str) -> Response:
    """Open a multi-part upload: an open bulk job, with no records yet."""
    services = current_services()
    tenant = authenticate_request(services)
    known_operation(operation)
    submission = uploads.open_upload(services, tenant, operation)
    logs.bind(jobId=submission.job_id)
    headers = {"Location": url_for("batch.show_job", job_id=submission.job_id)}
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        log.info("upload %s opened: %s", submission.job_id, operation)
    return json_response({"jobId": submission.job_id, "status": "open"}, 200, headers)


@uploads_bp.put("/batch/<job_id>/parts/<part_no>")
@documented(
    "Store one part of an open upload (again: replace it)",
    description="The body is NDJSON (`application/x-ndjson`) or CSV (`text/csv`, with its "
                "header row), at most BULK_PART_MAX_BYTES, streamed in. Sending a part number "
                "again replaces that part whole; a part cut off mid-way stores nothing.",
    path_params={**JOB_ID, **PART_NO},
    request_types=tuple(uploads.UPLOAD_TYPES),
    responses={200: (StoredPartSchema, "The part is stored."),
               400: "The body was cut off, or a CSV header lacks names (3016).",
               404: "No such job (another tenant's included).",
               409: "The upload is closed or discarded, or this part is being stored by "
                    "another request (4009).",
               413: "The part is larger than BULK_PART_MAX_BYTES (or the upload than "
                    "BULK_MAX_BYTES) (4013).",
               415: "The body is not NDJSON nor CSV, or not UTF-8 (3013).",
               422: "The part number is not 1 to 10,000 (3003); the upload would hold more "
                    "than BULK_MAX_RECORDS (3011)."},
    tags=("bulk",),
)
def store_part(job_id: str, part_no: str) -> Response:
    """Store part ``part_no`` of the tenant's open upload from the request's body."""
    services = current_services()
    tenant = authenticate_request(services)
    number = int(part_no) if part_no.isdigit() and len(part_no) <= 6 else 0
    resolved = resolve_job_id(services, job_id)
    part = uploads.store_part(services, tenant, resolved, job_id, number)
    log.info("part %s of upload %s stored: %s records", number, resolved, part.record_count)
    return json_response({"jobId": resolved, **_part(part)})


@uploads_bp.get("/batch/<job_id>/parts")
@documented(
    "List the parts an upload holds",
    description="What a client resuming an upload compares with its own parts (their "
                "SHA-256) to send only those missing or different.",
    path_params=JOB_ID,
    responses={200: PartsSchema, 404: "No such job (another tenant's included)."},
    tags=("bulk",),
)
def list_parts(job_id: str) -> Response:
    """Return the parts of the tenant's upload, in part order."""
    services = current_services()
    tenant = authenticate_request(services)
    resolved = resolve_job_id(services, job_id)
    with services.db.transaction() as conn:
        job = find_job(conn, tenant.id, resolved, job_id)
        parts = stored_uploads.parts(conn, resolved)
    return json_response({"jobId": job.id, "status": job.status,
                          "parts": [_part(part) for part in parts]})


@uploads_bp.post("/batch/<job_id>/close")
@documented(
    "Close an upload: number its records and queue the job",
    description="Records are indexed from 0 across the parts in part order. Closing a closed "
                "upload answers its job again.",
    path_params=JOB_ID,
    responses={200: (UploadClosedSchema, "The job is queued (or was already)."),
               400: "The parts hold no record (3016).",
               404: "No such job (another tenant's included).",
               409: "The upload was discarded, or a part is being stored (4009).",
               422: "The parts hold more than BULK_MAX_RECORDS (3011)."},
    tags=("bulk",),
)
def close_upload(job_id: str) -> Response:
    """Number the upload's records across its parts and queue the job."""
    services = current_services()
    tenant = authenticate_request(services)
    resolved = resolve_job_id(services, job_id)
    job, closed_now = uploads.close_upload(services, tenant, resolved, job_id)
    if closed_now:
        queue.enqueue_job(services.celery, job.id, queue=services.config.BULK_QUEUE)
        log.info("upload %s closed: %s records", job.id, job.total_count)
    return json_response({"jobId": job.id, "status": job.status, "totalCount": job.total_count})


def _part(part: stored_uploads.Part) -> dict:
    return {"part": part.part_no, "format": part.format, "records": part.record_count,
            "bytes": part.byte_count, "sha256": part.sha256}
