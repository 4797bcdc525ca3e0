"""The job listing: a tenant's jobs, newest first, filtered and paged by cursor."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.catalogue import OPERATIONS, title_of
from app.domain.status import job_summary
from app.services import current_services
from app.store.job_listing import JobFilter, list_jobs
from app.web.auth import authenticate_request
from app.web.jsonio import json_response
from app.web.openapi import documented
from app.web.params import load_params
from schemas import cursors
from schemas.pages import JobPageSchema
from schemas.queries import JobListQuerySchema

listing_bp = Blueprint("listing", __name__, url_prefix="/api/v4.0/integrations")

_query_schema = JobListQuerySchema(operations=OPERATIONS)


@listing_bp.get("/batch")
@documented(
    "List your jobs, newest first",
    description="Filter by status, operation and creation time; follow nextCursor for the "
                "next page. Pages are cut by position, so new jobs never shift them.",
    query=_query_schema,
    responses={200: JobPageSchema, 422: "A query parameter is not valid (3003); errors names it."},
    tags=("batch",),
)
def list_batch_jobs() -> Response:
    """Return a page of the caller's jobs, newest first, and the cursor of the next page."""
    services = current_services()
    tenant = authenticate_request(services)
    query = load_params(_query_schema, request.args)
    where = JobFilter(query.get("status"), query.get("operation"), query.get("createdAfter"))
    with services.db.transaction() as conn:
        # One more than asked tells whether a next page exists.
        listed = list_jobs(conn, tenant.id, where, before=query.get("cursor"),
                           limit=query["limit"] + 1)
    page = listed[:query["limit"]]
    next_cursor = None
    if len(listed) > len(page):
        last = page[-1].job
        next_cursor = cursors.encode(last.created_at.isoformat(), last.id)
    return json_response({
        "jobs": [job_summary(item.job, title_of(item.job.operation), item.counts)
                 for item in page],
        "nextCursor": next_cursor,
    })
