"""Jobs stored and read as the service does, for tests that call the machinery in-process."""

from __future__ import annotations

import base64
import json

import orjson

from app.store import jobs, uploads


def submit_job(services, tenant_id: int, records: list, operation: str = "customers") -> str:
    """Store a queued job, as the POST does, without enqueuing it."""
    with services.db.transaction() as conn:
        return jobs.create_job(conn, tenant_id, operation, records)


def submit_upload(services, tenant_id: int, records: list, operation: str = "customers") -> int:
    """Store a queued bulk job as a streamed NDJSON upload does (blocks of CHUNK_SIZE lines),
    without HTTP and without enqueuing it."""
    lines = [orjson.dumps(record) for record in records]
    size = services.config.CHUNK_SIZE
    with services.db.transaction() as conn:
        job_id = uploads.open_job(conn, tenant_id, operation)
        uploads.begin_part(conn, job_id, 1, "ndjson", None)
        uploads.copy_blocks(conn, job_id, 1, [uploads.Block(lines[start:start + size])
                                              for start in range(0, len(lines), size)])
        uploads.finish_part(conn, job_id, 1, records=len(lines), size=0, sha256=b"")
        uploads.close(conn, job_id)
    return job_id


def read_job(services, job_id: str) -> jobs.Job:
    """Return the job row as it is now."""
    with services.db.transaction() as conn:
        return jobs.get_job(conn, job_id)


def sent(services, queue: str | None = None) -> list[tuple[str, list]]:
    """Return (task name, args) of the messages waiting in ``queue`` (by default the services'
    CELERY_QUEUE), oldest first."""
    raw = services.redis.lrange(queue or services.config.CELERY_QUEUE, 0, -1)
    messages = [json.loads(item) for item in reversed(raw)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]
