"""Gunicorn settings for the API process, read from the environment (see the README).

The hooks live in ``app.runtime.gunicorn_hooks``; importing the application here also sets up
the Prometheus multiprocess directory in the master (``app.observability.metrics``), which
every web process then shares.
"""

import os

from app.config import listen_address, socket_address
from app.observability.logs import GUNICORN_LOGCONFIG
from app.runtime.gunicorn_hooks import child_exit, post_worker_init  # noqa: F401 - hooks

# Every interface unless HOST names one: behind a platform's router or in a container, that
# is how the service is reached. `make run` serves 127.0.0.1 unless told otherwise.
bind = socket_address(listen_address(os.environ, default="0.0.0.0"),
                      os.environ.get("PORT", "8000"))
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Requests mostly wait on PostgreSQL and Redis, so threads serve them cheaply.
worker_class = "gthread"
threads = 4
# A pooled PostgreSQL connection ready for each thread from the start (app/runtime/warmup.py).
os.environ.setdefault("DB_POOL_MIN_SIZE", str(threads))

# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
# On SIGTERM, let in-flight requests (a 1,000-record insert) finish before exiting.
graceful_timeout = 20
keepalive = 5

# JSON lines, like the application's; each request is logged by the application itself.
logconfig_dict = GUNICORN_LOGCONFIG

# The worker heartbeat file lives in memory where possible: a slow or overlay disk (Docker)
# would otherwise make idle workers look dead.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicornc's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers on one machine (`make run` and the integration tests) would take it from each other.
control_socket_disable = True
