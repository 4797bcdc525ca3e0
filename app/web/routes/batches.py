"""The other pair of paths Gameball's published document gives for a batch job: its status
(``GET /batches/{batchId}/status``) and its stop (``POST /batches/{batchId}/stop``).

They name the same jobs as the tutorial's ``GET`` and ``DELETE /batch/{jobId}``, read and stop
them the same way (``app.web.lookup``), and answer in the document's shapes.
"""

from __future__ import annotations

from flask import Blueprint, Response

from app.catalogue import title_of
from app.domain.status import DOCUMENT_STATUS, batch_status_body
from app.services import current_services
from app.web.jsonio import json_response
from app.web.lookup import read_own_job, stop_own_job
from app.web.openapi import documented
from schemas.jobs import BatchStatusSchema, BatchStoppedSchema

batches_bp = Blueprint("batches", __name__, url_prefix="/api/v4.0/integrations")

BATCH_ID = {"batchId": {"description": "The jobId a submission answered.",
                        "schema": {"type": "string", "minLength": 1}}}


@batches_bp.get("/batches/<batchId>/status")
@documented(
    "Show a job's status in the published document's shape",
    description="The same job as GET /batch/{jobId}: queued is `pending`, running is "
                "`processing`, and a stopped job is `completed` with `stopped: true`.",
    path_params=BATCH_ID,
    responses={200: BatchStatusSchema, 404: "No such job (another tenant's included)."},
    tags=("batch",),
)
def show_batch_status(batchId: str) -> Response:  # noqa: N803 - the documented parameter name
    """Return the job's status, progress, counts and outcomes, as the document words them."""
    seen = read_own_job(current_services(), batchId)
    return json_response(batch_status_body(seen.job, title_of(seen.job.operation), seen.chunks,
                                           seen.live_counts))


@batches_bp.post("/batches/<batchId>/stop")
@documented(
    "Stop a queued or running job (the published document's path)",
    description="Exactly what DELETE /batch/{jobId} does: once this answers, no further record "
                "of the job is applied. Stopping a stopped job answers the same again.",
    path_params=BATCH_ID,
    responses={200: BatchStoppedSchema, 404: "No such job (another tenant's included).",
               409: "The job already completed or failed (4009)."},
    tags=("batch",),
)
def stop_batch(batchId: str) -> Response:  # noqa: N803 - the documented parameter name
    """Stop the job; answer its id, its (document) status and what the stop left."""
    job = stop_own_job(current_services(), batchId).job
    settled = job.finished_count + job.error_count
    return json_response({
        "batchId": str(job.id),
        "status": DOCUMENT_STATUS[job.status],
        "stopped": True,
        "message": f"Batch stopped: {settled} of {job.total_count} records have an outcome "
                   f"({job.finished_count} applied, {job.error_count} failed); no further "
                   "record is applied.",
    })
