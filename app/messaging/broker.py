"""What the broker and the workers say right now: messages waiting per queue, workers alive.

Read at the moment of asking, from the shared broker, so any web process answers for every
machine.
"""

from __future__ import annotations

import threading
import time

import redis
from celery import Celery

# Kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)

# A worker that does not answer a ping within this long counts as not alive.
PING_TIMEOUT_SECONDS = 0.5
# Dashboards poll every few seconds: one ping per process per this long answers them all.
PING_CACHE_SECONDS = 5.0


def queue_names(celery: Celery) -> list[str]:
    """Return the names of the queues the workers consume."""
    queues = celery.conf.task_queues or ()
    names = [queue.name for queue in queues] or [celery.conf.task_default_queue]
    return list(dict.fromkeys(names))


def queue_depths(client: redis.Redis, names: list[str]) -> dict[str, int]:
    """Return how many messages wait in each queue (all priorities), read with LLEN."""
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            for priority in _PRIORITY_STEPS:
                pipe.llen(name if priority == 0 else f"{name}{_PRIORITY_SEPARATOR}{priority}")
        lengths = pipe.execute()
    steps = len(_PRIORITY_STEPS)
    return {name: sum(lengths[i * steps:(i + 1) * steps]) for i, name in enumerate(names)}


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
