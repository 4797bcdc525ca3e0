"""Opening a web process's connections when it starts, not in its first requests
(``WARM_START``).

A new gunicorn process otherwise pays inside the requests it serves first: each thread's
PostgreSQL connection (a server process forked, then authenticated), storing the configured
key pairs, loading Celery's result backend, building Celery's task sender (it imports the
event dispatcher), connecting to Redis and to the broker (once per thread serving at once)
and declaring the queue. Here the pool opens with one connection per thread, in its own
background threads, and the rest runs in a thread of its own, so that nothing holds up the
process: a server that is down now is reached later, as without this. What it changes is
measured in docs/performance.md.
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack

import redis
from celery import Celery
from kombu.exceptions import LimitExceeded

from app.services import Services
from app.web.auth import provision_keys

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
    # As many connections of each kind as the process serves requests at once: gunicorn
    # sizes the PostgreSQL pool to its threads (gunicorn.conf.py).
    at_once = max(1, services.config.DB_POOL_MIN_SIZE)
    try:
        provision_keys(services)
        celery.backend  # noqa: B018 - loaded on first use, through the package entry points
        celery.amqp.send_task_message  # noqa: B018 - built on first use, importing as it goes
        _open_redis_connections(services.redis, at_once)
        _open_broker_connections(celery, at_once)
        with celery.producer_or_acquire() as producer:
            producer.maybe_declare(celery.amqp.queues[celery.conf.task_default_queue])
    except Exception as error:  # noqa: BLE001 - a request meets the same error, and reports it
        log.warning("warm-up left undone (the first requests will do it): %s", error)


def _open_redis_connections(client: redis.Redis, count: int) -> None:
    """Leave ``count`` connected connections in the client's pool (the rate limit's, the
    live counters')."""
    pool = client.connection_pool
    connections = []
    try:
        for _ in range(count):
            connections.append(pool.get_connection())  # connects, or raises
    finally:
        for connection in connections:
            pool.release(connection)


def _open_broker_connections(celery: Celery, count: int) -> None:
    """Leave up to ``count`` connected connections in Celery's broker pool, which its
    producers draw from."""
    with ExitStack() as held:  # held all at once, so that each is a connection of its own
        for _ in range(count):
            try:
                connection = held.enter_context(celery.pool.acquire(block=False))
            except LimitExceeded:  # the pool holds no more (broker_pool_limit): never wait
                return
            connection.default_channel  # noqa: B018 - connects, or raises
