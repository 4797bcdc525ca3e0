"""A job's failed or successful records alone, paginated, for jobs too large to read whole."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.services import current_services
from app.store import jobs
from app.store.results import outcomes_page
from app.web.auth import authenticate_request
from app.web.jsonio import json_response
from app.web.lookup import JOB_ID, find_job, resolve_job_id
from app.web.openapi import documented
from app.web.params import load_params
from schemas import cursors
from schemas.pages import FailedPageSchema, SuccessfulPageSchema
from schemas.queries import ResultsPageQuerySchema

results_bp = Blueprint("results", __name__, url_prefix="/api/v4.0/integrations")

_page_schema = ResultsPageQuerySchema()


def _documented_side(side: str, page_schema: type):
    return documented(
        f"List a job's {side} records, a page at a time",
        path_params=JOB_ID,
        query=ResultsPageQuerySchema,
        responses={200: page_schema, 422: "limit or cursor is not valid (3003).",
                   404: "No such job (another tenant's included)."},
        tags=("batch",),
    )


@results_bp.get("/batch/<job_id>/failed")
@_documented_side("failed", FailedPageSchema)
def show_failed(job_id: str) -> Response:
    """Return a page of the job's failed records, in record order."""
    return _outcomes(job_id, "failed")


@results_bp.get("/batch/<job_id>/successful")
@_documented_side("successful", SuccessfulPageSchema)
def show_successful(job_id: str) -> Response:
    """Return a page of the job's applied records, in record order."""
    return _outcomes(job_id, "successful")


def _outcomes(raw: str, side: str) -> Response:
    services = current_services()
    tenant = authenticate_request(services)
    query = load_params(_page_schema, request.args)
    (after,) = query.get("cursor", (-1,))
    job_id = resolve_job_id(services, raw)
    with services.db.transaction() as conn:
        job = find_job(conn, tenant.id, job_id, raw)
        outcomes = outcomes_page(conn, job_id, side, after_index=after, limit=query["limit"] + 1)
    page = outcomes[:query["limit"]]
    next_cursor = cursors.encode(page[-1]["index"]) if len(outcomes) > len(page) else None
    body = {"jobId": job.id, "status": job.status, side: page, "nextCursor": next_cursor}
    if job.results_purged_at is not None:
        body["resultsPurgedAt"] = jobs.iso(job.results_purged_at)
    return json_response(body)
