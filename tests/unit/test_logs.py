"""JSON log lines and their context."""

from __future__ import annotations

import json
import logging

from app.messaging.queue import PROCESS_CHUNK, RUN_JOB, chunk_task_id, task_context
from app.observability import logs


def format_line(message: str, **extra) -> dict:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return json.loads(logs.JsonFormatter().format(record))


def test_a_line_carries_the_bound_context_until_it_is_restored():
    logs.clear()
    with logs.bound(requestId="r1", tenant=None):
        logs.bind(tenant="acme", jobId="j1")
        line = format_line("hello %s", status=202)
        with logs.bound(taskId="t1"):
            assert "requestId" not in format_line("inner")
        assert format_line("again")["tenant"] == "acme"
    assert line["message"] == "hello %s" and line["status"] == 202
    assert (line["requestId"], line["tenant"], line["jobId"], line["level"]) == (
        "r1", "acme", "j1", "INFO")
    assert "requestId" not in format_line("after")


def test_celerys_own_task_lines_name_the_job_and_chunk():
    # What the Celery app does when it is built (app.messaging.celery_app).
    logs.describe_tasks_with(task_context)
    chunk = format_line("Task received", data={"id": chunk_task_id("j9", 3), "name": PROCESS_CHUNK})
    assert (chunk["jobId"], chunk["chunk"], chunk["taskId"]) == ("j9", 3, "j9:3")
    assert format_line("x", data={"id": "j9", "name": RUN_JOB})["jobId"] == "j9"
    other = format_line("x", data={"id": "abc", "name": "batch.sweep_jobs"})
    assert other["taskId"] == "abc" and "jobId" not in other
