"""Gunicorn settings for the API process, read from the environment (see the README)."""

import os
import shutil
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Requests mostly wait on PostgreSQL and Redis, so threads serve them cheaply.
worker_class = "gthread"
threads = 4
# A pooled PostgreSQL connection ready for each thread from the start (app/warmup.py).
os.environ.setdefault("DB_POOL_MIN_SIZE", str(threads))

# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
# On SIGTERM, let in-flight requests (a 1,000-record insert) finish before exiting.
graceful_timeout = 20
keepalive = 5

# JSON lines, like the application's; each request is logged by the application itself.
from app.logs import GUNICORN_LOGCONFIG  # noqa: E402

logconfig_dict = GUNICORN_LOGCONFIG

# The worker heartbeat file lives in memory where possible: a slow or overlay disk (Docker)
# would otherwise make idle workers look dead.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicornc's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers on one machine (`make run` and the integration tests) would take it from each other.
control_socket_disable = True


_private_metrics_dir: list[str] = []


def on_starting(server):
    """Give gunicorn's workers one metrics directory (see app/metrics.py), chosen in the master."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # None shared with the workers of this machine: the web's own, removed at exit.
        path = tempfile.mkdtemp(prefix="batchq-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _private_metrics_dir.append(path)


def child_exit(server, worker):
    """Let go of an exited worker's live metric files (its counts stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory if it was this server's own."""
    for path in _private_metrics_dir:
        shutil.rmtree(path, ignore_errors=True)


def post_worker_init(worker):
    """Answer gunicorn's own refusals (414, 431, malformed requests) in the JSON error shape;
    open the process's connections (app/warmup.py); then, the application loaded, keep the
    garbage collector off it (app/gc_freeze.py)."""
    from app.gc_freeze import freeze_startup_objects
    from app.gunicorn_errors import install
    from app.warmup import warm_up

    install()
    warm_up(worker.wsgi.extensions["batchq"])
    freeze_startup_objects()
