"""What the whole service looks like right now: jobs by status, queues, workers, hosts.

Read at the moment of asking, from the shared servers (PostgreSQL, the broker, a ping of the
Celery workers), so any web process answers for every machine. The hosts come from the
workers' heartbeat rows (``app.store.heartbeats``): each machine's workers and when it was
last heard of, a vanished one marked lost. ``/metrics`` (through ``ServiceCollector``),
``/readyz`` and the operators' dashboard all show these figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.messaging import broker
from app.services import Services
from app.store import heartbeats, overview
from app.store.heartbeats import Host

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """The service at one moment; a part whose server did not answer is None."""

    jobs: dict[str, int] | None
    oldest_queued_seconds: float | None
    queues: dict[str, int] | None
    workers: list[str] | None
    hosts: list[Host] | None = None


def snapshot(services: Services) -> Snapshot:
    """Return the service as it is now; a server that does not answer leaves its part None."""
    jobs = oldest = queues = workers = hosts = None
    try:
        with services.db.transaction() as conn:
            jobs, oldest = overview.job_counts(conn), overview.oldest_queued_age(conn)
            hosts = worker_hosts(conn, services)
    except psycopg.Error as error:
        log.warning("job figures unavailable: %s", error)
    try:
        queues = broker.queue_depths(services.celery, broker.queue_names(services.celery))
        workers = broker.workers_alive(services.celery)
    except broker.BROKER_ERRORS as error:
        log.warning("queue and worker figures unavailable: %s", error)
    return Snapshot(jobs, oldest, queues, workers, hosts)


def worker_hosts(conn: psycopg.Connection, services: Services) -> list[Host]:
    """Return every host with workers (or lately lost), as their heartbeats tell."""
    return heartbeats.hosts(conn, services.config.WORKER_LOST_AFTER_SECONDS)


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
        if now.hosts is not None:
            yield from _host_metrics(now.hosts)
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


def _host_metrics(hosts: list[Host]):
    """Yield the gauges of the worker hosts: how many alive and lost, and each one's figures."""
    states = GaugeMetricFamily("batchq_worker_hosts",
                               "Hosts running workers, by state (lost: no heartbeat lately).",
                               labels=["state"])
    states.add_metric(["alive"], sum(not host.lost for host in hosts))
    states.add_metric(["lost"], sum(host.lost for host in hosts))
    yield states
    workers = GaugeMetricFamily("batchq_host_workers",
                                "Celery workers beating on each host (0 once it is lost).",
                                labels=["host"])
    beats = GaugeMetricFamily("batchq_host_last_heartbeat_timestamp_seconds",
                              "When each host's workers were last heard of (Unix time).",
                              labels=["host"])
    for host in hosts:
        workers.add_metric([host.host], host.workers)
        beats.add_metric([host.host], host.last_heartbeat.timestamp())
    yield workers
    yield beats
