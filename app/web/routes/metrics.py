"""The Prometheus scrape endpoint."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.domain.cluster import ServiceCollector
from app.observability import metrics
from app.services import current_services
from app.web.openapi import undocumented

metrics_bp = Blueprint("metrics", __name__)


@metrics_bp.get("/metrics")
@undocumented("Prometheus's text exposition format, scraped by Prometheus, not an API call")
def scrape() -> Response:
    """Return the counters of this machine's processes and the service-wide gauges."""
    return Response(metrics.render(ServiceCollector(current_services())), content_type=CONTENT_TYPE_LATEST)
