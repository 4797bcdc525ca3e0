"""Celery, built in exactly one place from the application's configuration.

Tasks run inside the Flask application context, so they reach the same services (pool,
Redis, configuration) as the web process.
"""

from __future__ import annotations

import inspect
import os

from celery import Celery, Task
from flask import Flask

from app import logs, priority
from app.config import Config
from app.gc_freeze import freeze_startup_objects

# Task arguments that become log context fields.
_LOGGED_ARGUMENTS = {"job_id": "jobId", "chunk_no": "chunk"}


def celery_init_app(app: Flask, config: Config) -> Celery:
    """Create the Celery app for ``app`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            context = _log_context(self, args, kwargs)
            with app.app_context(), logs.bound(taskId=self.request.id, **context):
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=["workers.tasks"])
    celery.conf.update(config.celery_settings())
    celery.set_default()
    app.extensions["celery"] = celery
    _connect_metrics(config.WORKER_METRICS_PORT)
    _connect_pool_process_setup(config.WORKER_NICENESS)
    return celery


def _connect_pool_process_setup(increment: int) -> None:
    """Lower the worker's CPU priority by ``increment`` (see the config and app/priority.py):
    its session's, for the worker's lifetime, and each pool process's, which also keeps the
    garbage collector off what it inherited (app/gc_freeze.py)."""
    from celery.signals import celeryd_after_setup, worker_process_init, worker_shutdown

    session_niceness_before: list[int | None] = [None]

    def lower_session(**_: object) -> None:
        session_niceness_before[0] = priority.lower_session_priority(increment)

    def restore_session(**_: object) -> None:
        priority.restore_session_priority(session_niceness_before[0])

    def settle_pool_process(**_: object) -> None:
        priority.lower_process_priority(increment)
        freeze_startup_objects()

    # celeryd_after_setup comes in the main process of `celery worker` only (not beat's, nor
    # Flower's), its logging set up; the pool processes share the group whenever they start.
    celeryd_after_setup.connect(lower_session, weak=False, dispatch_uid="batchq-session-priority")
    worker_shutdown.connect(restore_session, weak=False, dispatch_uid="batchq-session-restore")
    worker_process_init.connect(settle_pool_process, weak=False, dispatch_uid="batchq-pool-process-setup")


def _connect_metrics(port: int) -> None:
    """In a worker: serve the machine's metrics on ``port`` (if set); drop dead children's files."""
    from celery.signals import worker_process_shutdown, worker_ready

    from app import metrics

    def serve(**_: object) -> None:
        if port:
            metrics.serve_worker_metrics(port)

    def mark_dead(pid: int | None = None, **_: object) -> None:
        metrics.mark_process_dead(pid or os.getpid())

    # dispatch_uid: one connection however many apps a process builds (tests build several).
    worker_ready.connect(serve, weak=False, dispatch_uid="batchq-worker-metrics")
    worker_process_shutdown.connect(mark_dead, weak=False, dispatch_uid="batchq-mark-dead")


def _log_context(task: Task, args: tuple, kwargs: dict) -> dict:
    """Return the log context fields named by a task's arguments (its job, its chunk)."""
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {}
    return {field: bound[name] for name, field in _LOGGED_ARGUMENTS.items() if name in bound}
