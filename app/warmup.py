"""Opening a web process's connections when it starts, not in its first requests.

A new gunicorn process otherwise pays inside the requests it serves first: each thread's
PostgreSQL connection (a server process forked, then authenticated), storing the
configured key pairs, loading Celery's result backend, connecting to the broker and
declaring its queue. With four clients posting at once, those first requests took 45 to
130 ms against 12 to 30 ms once warm. Here the pool opens with one connection per thread,
in its own background threads, and the rest runs in a thread of its own, so that nothing
holds up the process: a server that is down now is reached later, as without this.
"""

from __future__ import annotations

import logging
import threading

from app.auth import provision_keys
from app.services import Services

log = logging.getLogger(__name__)


def warm_up(services: Services) -> threading.Thread:
    """Start opening the process's connections in the background; return the thread doing it."""
    services.db.pool  # noqa: B018 - opening the pool starts its min_size connections
    thread = threading.Thread(target=_reach_servers, args=(services,), name="warm-up",
                              daemon=True)
    thread.start()
    return thread


def _reach_servers(services: Services) -> None:
    celery = services.celery
    try:
        provision_keys(services)
        celery.backend  # noqa: B018 - loaded on first use, through the package entry points
        with celery.producer_or_acquire() as producer:
            producer.maybe_declare(celery.amqp.queues[celery.conf.task_default_queue])
    except Exception as error:  # noqa: BLE001 - a request meets the same error, and reports it
        log.warning("warm-up left undone (the first requests will do it): %s", error)
