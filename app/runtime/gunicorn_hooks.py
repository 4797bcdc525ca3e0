"""gunicorn's server hooks, named in ``gunicorn.conf.py``: what each web process does as it
starts and what the master does as processes come and go."""

from __future__ import annotations

from app.observability import metrics
from app.runtime.gc_freeze import freeze_startup_objects
from app.runtime.warmup import warm_up
from app.web.gunicorn_errors import answer_refusals_as_json


def child_exit(server, worker) -> None:
    """Let go of an exited web process's live metric files (its counts stay counted)."""
    metrics.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    """Answer gunicorn's own refusals (414, 431, malformed requests) in the JSON error shape;
    with ``WARM_START``, open the process's connections now (``app.runtime.warmup``) and,
    the application loaded, keep the garbage collector off it (``app.runtime.gc_freeze``)."""
    answer_refusals_as_json()
    services = worker.wsgi.extensions["batchq"]
    if services.config.WARM_START:
        warm_up(services)
        freeze_startup_objects()
