"""Liveness and readiness probes."""

from __future__ import annotations

import psycopg
import redis
from flask import Blueprint, Response

from app.domain import cluster
from app.messaging import broker
from app.services import current_services
from app.store.heartbeats import Host
from app.store.jobs import iso
from app.web.jsonio import json_response
from app.web.openapi import documented
from schemas.health import LiveSchema, ReadySchema

health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
@documented("Liveness probe", auth=False, responses={200: LiveSchema}, tags=("operations",))
def healthz() -> Response:
    """Answer 200 while the process serves requests."""
    return json_response({"status": "ok"})


@health_bp.get("/readyz")
@documented("Readiness probe", auth=False, tags=("operations",),
            responses={200: (ReadySchema, "PostgreSQL, Redis and the broker answer."),
                       503: (ReadySchema, "PostgreSQL, Redis or the broker does not answer.")})
def readyz() -> Response:
    """Report whether PostgreSQL, Redis and the broker answer, the workers answering a ping,
    and every host running workers with its last heartbeat."""
    services = current_services()
    checks = {"postgres": "ok", "redis": "ok", "broker": "ok"}
    hosts: list[Host] = []
    try:
        with services.db.pool.connection(timeout=2) as conn:
            hosts = cluster.worker_hosts(conn, services)
    except (psycopg.Error, Exception) as error:  # noqa: BLE001 - any failure means not ready
        checks["postgres"] = f"unavailable: {type(error).__name__}"
    try:
        services.redis.ping()
    except (redis.RedisError, OSError) as error:
        checks["redis"] = f"unavailable: {type(error).__name__}"
    workers = 0
    try:
        workers = len(broker.ping_workers(services.celery))
    except broker.BROKER_ERRORS as error:
        checks["broker"] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks, "workers": workers,
            "hosts": [_host(host) for host in hosts]}
    return json_response(body, 200 if ready else 503)


def _host(host: Host) -> dict:
    return {"host": host.host, "addresses": host.addresses, "workers": host.workers,
            "processes": host.processes, "lastHeartbeat": iso(host.last_heartbeat),
            "state": "lost" if host.lost else "alive"}
