"""A job's records by what became of them: applied (``/successful``), failed (``/failed``), or
never applied because the job was stopped or failed (``/unprocessed``, with the record).

Each is a JSON page at a time (``limit``, ``cursor``), or, with ``Accept:
application/x-ndjson`` or ``text/csv``, every entry of the job as one file
(``app.web.result_files``): what a job too large to read whole is read by.
"""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, Response, request

from app.catalogue import get_operation
from app.domain.unprocessed import unprocessed_entries
from app.services import current_services
from app.store import jobs
from app.store.results import outcomes_page
from app.web.auth import authenticate_request
from app.web.jsonio import json_response
from app.web.lookup import JOB_ID, find_job, resolve_job_id
from app.web.openapi import documented
from app.web.params import load_params
from app.web.result_files import FILE_TYPES, file_response, requested_format
from schemas import cursors
from schemas.pages import FailedPageSchema, SuccessfulPageSchema, UnprocessedPageSchema
from schemas.queries import ResultsPageQuerySchema

results_bp = Blueprint("results", __name__, url_prefix="/api/v4.0/integrations")

_page_schema = ResultsPageQuerySchema()


def _documented_side(summary: str, page_schema: type):
    return documented(
        summary,
        description="A page at a time as JSON, in index order; with `Accept: "
                    "application/x-ndjson` or `text/csv`, every entry of the job as one file "
                    "(`limit` and `cursor` are then ignored). Complete once the job ended.",
        path_params=JOB_ID,
        query=ResultsPageQuerySchema,
        response_types=tuple(FILE_TYPES),
        responses={200: page_schema, 422: "limit or cursor is not valid (3003).",
                   404: "No such job (another tenant's included)."},
        tags=("batch",),
    )


@results_bp.get("/batch/<job_id>/failed")
@_documented_side("List a job's failed records, with their index, error and code",
                  FailedPageSchema)
def show_failed(job_id: str) -> Response:
    """Return the job's failed records, in record order."""
    return _side(job_id, "failed")


@results_bp.get("/batch/<job_id>/successful")
@_documented_side("List a job's applied records, with their index", SuccessfulPageSchema)
def show_successful(job_id: str) -> Response:
    """Return the job's applied records, in record order."""
    return _side(job_id, "successful")


@results_bp.get("/batch/<job_id>/unprocessed")
@_documented_side("List the records a stopped or failed job never applied, as sent",
                  UnprocessedPageSchema)
def show_unprocessed(job_id: str) -> Response:
    """Return the job's records that have no outcome, each with the record it was sent as."""
    return _side(job_id, "unprocessed")


def _side(raw: str, side: str) -> Response:
    services = current_services()
    tenant = authenticate_request(services)
    fmt = requested_format()
    query = load_params(_page_schema, request.args) if fmt is None else {}
    job_id = resolve_job_id(services, raw)
    with services.db.transaction() as conn:
        job = find_job(conn, tenant.id, job_id, raw)
    key = get_operation(job.operation).key_field
    if fmt is not None:
        return file_response(services, job, side, key, fmt)
    (after,) = query.get("cursor", (-1,))
    limit = query["limit"]
    if side == "unprocessed":
        entries = list(islice(unprocessed_entries(services.db, job, after_index=after), limit + 1))
    else:
        with services.db.statement() as conn:
            entries = outcomes_page(conn, job_id, side, after_index=after, limit=limit + 1)
    page = entries[:limit]
    next_cursor = cursors.encode(page[-1]["index"]) if len(entries) > len(page) else None
    body = {"jobId": job.id, "status": job.status, side: page, "nextCursor": next_cursor}
    if job.results_purged_at is not None:
        body["resultsPurgedAt"] = jobs.iso(job.results_purged_at)
    return json_response(body)
