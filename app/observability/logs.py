"""Structured logs: one JSON object per line, carrying the request's or task's context.

Every line logged while a request or a task runs carries its context fields (``requestId``,
``tenant``, ``jobId``, ``taskId``, ``chunk``), bound once where they become known (the request
id on arrival, the tenant after authentication, the job and chunk from the route or the task's
arguments) rather than repeated in each message. What is logged is ids, counts and reasons:
never keys, secrets or records.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

CONTEXT_FIELDS = ("requestId", "tenant", "jobId", "taskId", "chunk")

_context: ContextVar[dict[str, Any]] = ContextVar("batchq_log_context", default={})


def bind(**fields: Any) -> None:
    """Add ``fields`` (None values skipped) to the context of the current request or task."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear() -> None:
    """Forget the context (a request or task ended; the thread serves the next one)."""
    _context.set({})


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Run the block with only ``fields`` as context, restoring the previous one after."""
    token = _context.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per record: time, level, logger, message, context, extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        super().__init__("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                         *args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for name, value in {**_celery_context(record), **_context.get()}.items():
            log_data.setdefault(name, value)


def _celery_context(record: logging.LogRecord) -> dict[str, Any]:
    """Celery's worker logs a task's arrival and end outside the task, with its id in ``data``."""
    data = getattr(record, "data", None)
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return {}
    return _describe_task(str(data.get("name", "")), data["id"])


def _task_id_only(name: str, task_id: str) -> dict[str, Any]:
    return {"taskId": task_id}


_describe_task: Callable[[str, str], dict[str, Any]] = _task_id_only


def describe_tasks_with(describe: Callable[[str, str], dict[str, Any]]) -> None:
    """Say how a task's name and id become log context (the messaging layer knows its ids)."""
    global _describe_task
    _describe_task = describe


def configure(level: int = logging.INFO) -> None:
    """Log JSON lines to stderr, unless the host process (gunicorn, pytest) set up logging."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


# gunicorn's logging (its own lines, e.g. a request line too long to parse) in the same JSON;
# requests are logged by the application, with their context, so gunicorn's access log is off.
GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "stream": "ext://sys.stderr"}},
    "formatters": {"json": {"()": "app.observability.logs.JsonFormatter"}},
}
