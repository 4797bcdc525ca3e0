"""What the whole service looks like right now: jobs by status, queues, workers.

Read at the moment of asking, from the shared servers (PostgreSQL, the broker, a ping of the
Celery workers), so any web process answers for every machine. ``/metrics`` (through
``ServiceCollector``) and the operators' dashboard both show these figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.messaging import broker
from app.services import Services
from app.store import overview

log = logging.getLogger(__name__)


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
            jobs, oldest = overview.job_counts(conn), overview.oldest_queued_age(conn)
    except psycopg.Error as error:
        log.warning("job figures unavailable: %s", error)
    try:
        queues = broker.queue_depths(services.celery, broker.queue_names(services.celery))
        workers = broker.workers_alive(services.celery)
    except broker.BROKER_ERRORS as error:
        log.warning("queue and worker figures unavailable: %s", error)
    return Snapshot(jobs, oldest, queues, workers)


class ServiceCollector(Collector):
    """The service-wide gauges of ``/metrics``, read at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self):
        now = snapshot(self.services)
        if now.jobs is not None:
            jobs = GaugeMetricFamily("batchq_jobs", "Jobs of every tenant, by status.",
                                     labels=["status"])
            for status, count in now.jobs.items():
                jobs.add_metric([status], count)
            yield jobs
            yield GaugeMetricFamily("batchq_oldest_queued_job_age_seconds",
                                    "Age of the oldest job still queued (0 when none waits).",
                                    value=now.oldest_queued_seconds)
        if now.queues is not None:
            depth = GaugeMetricFamily("batchq_queue_depth",
                                      "Messages waiting in each Celery queue, as the broker "
                                      "counts them.", labels=["queue"])
            for name, length in now.queues.items():
                depth.add_metric([name], length)
            yield depth
        if now.workers is not None:
            yield GaugeMetricFamily("batchq_workers_alive",
                                    "Celery workers that answered a ping just now.",
                                    value=len(now.workers))
