"""What the broker and the workers say right now: messages waiting per queue, workers alive.

Read at the moment of asking, from the shared broker, so any web process answers for every
machine. Both questions go through kombu and Celery, so they are asked the same way of Redis
and of RabbitMQ: a passive ``queue_declare`` answers a queue's message count (kombu's Redis
transport sums the lengths of the queue's priority lists; RabbitMQ counts the messages ready
for delivery), and a ping is a broadcast the workers answer.
"""

from __future__ import annotations

import threading
import time

import amqp.exceptions
import redis
from celery import Celery
from kombu.exceptions import KombuError

# What a broker (or the Redis beside it) raises when it is away or refuses: the transports'
# own errors, kombu's, and the socket's.
BROKER_ERRORS = (KombuError, amqp.exceptions.AMQPError, redis.RedisError, OSError)

# A worker that does not answer a ping within this long counts as not alive.
PING_TIMEOUT_SECONDS = 0.5
# Dashboards poll every few seconds: one ping per process per this long answers them all.
PING_CACHE_SECONDS = 5.0


def queue_names(celery: Celery) -> list[str]:
    """Return the names of the queues the workers consume."""
    queues = celery.conf.task_queues or ()
    names = [queue.name for queue in queues] or [celery.conf.task_default_queue]
    return list(dict.fromkeys(names))


def queue_depths(celery: Celery, names: list[str]) -> dict[str, int]:
    """Return how many messages wait in each queue; a queue not declared yet holds none."""
    depths = {}
    # A pooled connection: a scrape or a dashboard refresh opens no new one.
    with celery.pool.acquire(block=True, timeout=celery.conf.broker_connection_timeout) as conn:
        conn.ensure_connection(max_retries=1)
        not_found = conn.channel_errors
        for name in names:
            # A channel per queue: RabbitMQ closes the channel that asked for a missing one.
            channel = conn.channel()
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except not_found:
                depths[name] = 0
            finally:
                channel.close()
    return depths


def ping_workers(celery: Celery, timeout: float = PING_TIMEOUT_SECONDS) -> list[str]:
    """Return the node names of the workers that answer a ping within ``timeout``."""
    replies = celery.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


_ping_lock = threading.Lock()
_ping_cache: dict[int, tuple[float, list[str]]] = {}


def workers_alive(celery: Celery) -> list[str]:
    """Return the workers answering a ping, asking at most once per PING_CACHE_SECONDS."""
    with _ping_lock:
        cached = _ping_cache.get(id(celery))
        if cached is not None and time.monotonic() - cached[0] < PING_CACHE_SECONDS:
            return cached[1]
        workers = ping_workers(celery)
        _ping_cache[id(celery)] = (time.monotonic(), workers)
        return workers
