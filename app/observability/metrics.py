"""Prometheus metrics, multiprocess-safe under gunicorn and Celery's prefork pool.

Two kinds of figures:
- what processes count as they work (records applied and failed, chunk durations): each
  process writes its own files under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them, so
  gunicorn's and Celery's child processes, which come and go, lose nothing;
- what the service looks like now (jobs by status, queue depths, workers alive, the oldest
  queued job): read at scrape time from PostgreSQL, Redis and a ping (``app.domain.cluster``), so
  any web process answers them for every machine.

``GET /metrics`` on the web serves both: the counters of every process that shares its
machine's directory, and the service-wide gauges. A worker on a machine without the web
serves its own counters on ``WORKER_METRICS_PORT`` (see ``serve_worker_metrics``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _use_multiprocess_dir() -> str:
    """Keep this process's metrics as files in PROMETHEUS_MULTIPROC_DIR (a private one if unset).

    prometheus-client picks its storage when first imported, which Celery's command line
    does before our code runs (Flower's plugin imports it): so the choice is made here.
    """
    path = os.environ.get(MULTIPROC_ENV, "").strip()
    if not path:
        # Nothing shared was configured: this process and its children share a private
        # directory, removed when the process that made it exits.
        path = tempfile.mkdtemp(prefix="batchq-metrics-")
        os.environ[MULTIPROC_ENV] = path
        atexit.register(_remove_if_owner, path, os.getpid())
    os.makedirs(path, exist_ok=True)
    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.MultiProcessValue()
    return path


def _remove_if_owner(path: str, owner: int) -> None:
    # Forked children inherit atexit handlers; only the process that made the directory removes it.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


MULTIPROC_DIR = _use_multiprocess_dir()

RECORDS = Counter("batchq_records", "Records settled by the workers, by operation and outcome "
                  "(applied: created or updated; failed: with a reason).",
                  ["operation", "outcome"])
CHUNK_SECONDS = Histogram("batchq_chunk_duration_seconds",
                          "Time to validate and apply one chunk, in its transaction.",
                          ["operation"],
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


def record_chunk(operation: str, seconds: float, applied: int, failed: int) -> None:
    """Count a chunk that was just committed: its records' outcomes and its duration."""
    RECORDS.labels(operation, "applied").inc(applied)
    RECORDS.labels(operation, "failed").inc(failed)
    CHUNK_SECONDS.labels(operation).observe(seconds)


class _OwnFiles(Collector):
    """This machine's processes' metric files, summed, keeping only the service's own metrics."""

    def __init__(self) -> None:
        # Not registered anywhere: it is read through this collector only.
        self._files = multiprocess.MultiProcessCollector(None, path=MULTIPROC_DIR)

    def collect(self):
        # Other code in our processes may write there too (Flower's own metrics, when it
        # shares the directory under `make run`): /metrics answers for batchq alone.
        return (family for family in self._files.collect() if family.name.startswith("batchq_"))


def process_registry() -> CollectorRegistry:
    """Return a registry of what this machine's processes counted (their files, summed)."""
    registry = CollectorRegistry()
    registry.register(_OwnFiles())
    return registry


def render(*collectors: Collector) -> bytes:
    """Return the exposition text of /metrics: this machine's counters, then ``collectors``'."""
    registry = process_registry()
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


def mark_process_dead(pid: int) -> None:
    """Let go of an exited process's live files (its counters stay counted)."""
    multiprocess.mark_process_dead(pid, MULTIPROC_DIR)


def serve_worker_metrics(port: int):
    """Serve this machine's counters on ``port`` (a worker node with no web beside it).

    Returns the server, or None if the port is taken.
    """
    try:
        server, _ = start_http_server(port, registry=process_registry())
    except OSError as error:
        # Another worker of this machine serves them already: same directory, same figures.
        log.warning("worker metrics not served on port %s: %s", port, error)
        return None
    log.info("worker metrics served on port %s", port)
    return server
