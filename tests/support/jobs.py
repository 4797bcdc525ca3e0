"""Jobs stored and read as the service does, for tests that call the machinery in-process."""

from __future__ import annotations

import base64
import json

from app.store import jobs


def submit_job(services, tenant_id: int, records: list, operation: str = "customers") -> str:
    """Store a queued job, as the POST does, without enqueuing it."""
    with services.db.transaction() as conn:
        return jobs.create_job(conn, tenant_id, operation, records)


def read_job(services, job_id: str) -> jobs.Job:
    """Return the job row as it is now."""
    with services.db.transaction() as conn:
        return jobs.get_job(conn, job_id)


def sent(services) -> list[tuple[str, list]]:
    """Return (task name, args) of the messages waiting in the services' queue, oldest first."""
    raw = services.redis.lrange(services.config.CELERY_QUEUE, 0, -1)
    messages = [json.loads(item) for item in reversed(raw)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]
