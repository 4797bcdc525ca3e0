"""The operators' dashboard: an HTML page of every tenant's jobs, refreshed live, with Stop.

Server-rendered with Jinja, no build step: the page and its live part come from the same
templates; a small script (``static/dashboard.js``) fetches the live part every couple of
seconds and swaps it in, and sends the Stop button's request.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from app.catalogue import title_of
from app.domain import stopping
from app.error_codes import ALREADY_ENDED, UNAUTHORIZED
from app.services import current_services
from app.store.jobs import iso
from app.web import operator_auth
from app.web.board import ago, board, brief
from app.web.errors import ApiError
from app.web.jsonio import json_response
from app.web.lookup import job_not_found, resolve_job_id
from app.web.openapi import undocumented
from app.web.ratelimit import current_rate_limiter

dashboard_bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

_PAGE = "an HTML page for operators, behind OPERATOR_TOKEN; not part of the client API"
_CALL = "the operators' dashboard's own call, behind OPERATOR_TOKEN; not part of the client API"


@dashboard_bp.context_processor
def _helpers() -> dict:
    return {"ago": ago, "brief": brief, "title_of": title_of}


@dashboard_bp.after_request
def _guard(response: Response) -> Response:
    # Every tenant's jobs: never cached, never framed, scripts only from this server.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'")
    return response


@dashboard_bp.get("")
@undocumented(_PAGE)
def page() -> Response:
    """Show the dashboard, or the login form to a browser without the cookie."""
    config = current_services().config
    operator_auth.require_enabled(config)
    if not operator_auth.is_operator(config):
        return redirect(url_for("dashboard.login_form"))
    return render_template("dashboard/page.html", board=board(current_services()))


@dashboard_bp.get("/live")
@undocumented(_CALL)
def live() -> Response:
    """Return the live part of the page (figures and jobs), for the script to swap in."""
    services = current_services()
    operator_auth.require_operator(services.config)
    return render_template("dashboard/_live.html", board=board(services))


@dashboard_bp.post("/jobs/<job_id>/stop")
@undocumented(_CALL)
def stop(job_id: str) -> Response:
    """Stop any tenant's job, as DELETE does for its owner; answer its status and counts."""
    services = current_services()
    operator_auth.require_operator(services.config)
    if request.headers.get(operator_auth.ACTION_HEADER) != "stop":
        raise ApiError(UNAUTHORIZED, f"Send the {operator_auth.ACTION_HEADER}: stop header.")
    result = stopping.stop_job(services, resolve_job_id(services, job_id), tenant_id=None,
                               by="an operator")
    if result.job is None:
        raise job_not_found(job_id)
    job = result.job
    if result.refused:
        raise ApiError(ALREADY_ENDED, f"Job {job_id} is already {job.status}.")
    return json_response({"jobId": job.id, "operation": title_of(job.operation),
                          "status": job.status, "totalCount": job.total_count,
                          "finishedCount": job.finished_count, "errorCount": job.error_count,
                          "finishedAt": iso(job.finished_at)})


@dashboard_bp.get("/login")
@undocumented(_PAGE)
def login_form() -> Response:
    """Show the form that asks for the operator token."""
    operator_auth.require_enabled(current_services().config)
    return render_template("dashboard/login.html")


@dashboard_bp.post("/login")
@undocumented(_PAGE)
def login() -> Response:
    """Trade the operator token for the dashboard's cookie."""
    services = current_services()
    operator_auth.require_enabled(services.config)
    # Guessing is limited like a client's writes, per address.
    wait = current_rate_limiter().retry_after(f"operator-login:{request.remote_addr}", "POST")
    if wait is not None:
        return make_response(render_template("dashboard/login.html",
                                             error=f"Too many attempts; wait {wait} s."), 429)
    if not operator_auth.token_matches(services.config, request.form.get("token", "")):
        return make_response(render_template("dashboard/login.html",
                                             error="That is not the operator token."), 401)
    response = redirect(url_for("dashboard.page"))
    response.set_cookie(operator_auth.COOKIE,
                        operator_auth.session_cookie(services.config.OPERATOR_TOKEN),
                        httponly=True, samesite="Strict", secure=request.is_secure,
                        path="/dashboard", max_age=12 * 3600)
    return response


@dashboard_bp.post("/logout")
@undocumented(_PAGE)
def logout() -> Response:
    """Forget the dashboard's cookie."""
    response = redirect(url_for("dashboard.login_form"))
    response.delete_cookie(operator_auth.COOKIE, path="/dashboard")
    return response
