"""What the whole service looks like right now: jobs by status, queues, workers.

Read at the moment of asking, from the shared servers (PostgreSQL, the Redis broker, a ping
of the Celery workers), so any web process answers for every machine. ``/metrics`` and the
operators' dashboard both show these figures.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import psycopg
import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from app.jobs import FINISHED, UNFINISHED
from app.services import Services

log = logging.getLogger(__name__)

STATUSES = (*UNFINISHED, *FINISHED)

# Kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)

# A worker that does not answer a ping within this long counts as not alive.
PING_TIMEOUT_SECONDS = 0.5
# Dashboards poll every few seconds: one ping per process per this long answers them all.
PING_CACHE_SECONDS = 5.0


def job_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Return how many jobs of every tenant have each status (0 for none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, count(*) FROM batch_jobs GROUP BY status"):
        counts[status] = count
    return counts


def oldest_queued_age(conn: psycopg.Connection) -> float:
    """Return the age in seconds of the oldest job still queued (0 when none waits)."""
    # The partial index batch_jobs_unfinished serves this.
    age = conn.execute("SELECT extract(epoch FROM now() - min(created_at)) FROM batch_jobs"
                       " WHERE status = 'queued'").fetchone()[0]
    return float(age or 0)


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


@dataclass(frozen=True)
class Snapshot:
    """The service at one moment; a part whose server did not answer is None."""

    jobs: dict[str, int] | None
    oldest_queued_seconds: float | None
    queues: dict[str, int] | None
    workers: list[str] | None


def snapshot(services: Services) -> Snapshot:
    """Return the service as it is now; a server that does not answer leaves its part None."""
    jobs = oldest = queues = workers = None
    try:
        with services.db.transaction() as conn:
            jobs, oldest = job_counts(conn), oldest_queued_age(conn)
    except psycopg.Error as error:
        log.warning("job figures unavailable: %s", error)
    try:
        queues = queue_depths(services.redis, queue_names(services.celery))
        workers = workers_alive(services.celery)
    except (redis.RedisError, BrokerError, OSError) as error:
        log.warning("queue and worker figures unavailable: %s", error)
    return Snapshot(jobs, oldest, queues, workers)
