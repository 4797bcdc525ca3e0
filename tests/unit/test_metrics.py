"""Metrics kept as files: what one process counts, another reads; a worker port serves it."""

from __future__ import annotations

import multiprocessing

import requests
from prometheus_client.parser import text_string_to_metric_families

from app.observability import metrics
from tests.support.service import free_port


def _count_a_chunk_elsewhere() -> None:
    metrics.record_chunk("unit-op", 0.2, applied=7, failed=2)


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_child_process_counts_and_the_worker_port_serves_it():
    # A forked child, as Celery's prefork pool runs chunks: its counts outlive it.
    child = multiprocessing.get_context("fork").Process(target=_count_a_chunk_elsewhere)
    child.start()
    child.join(10)
    assert child.exitcode == 0
    metrics.mark_process_dead(child.pid)

    port = free_port()
    server = metrics.serve_worker_metrics(port)
    assert server is not None
    try:
        assert metrics.serve_worker_metrics(port) is None  # taken: a warning, not a crash
        found = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        server.shutdown()
        server.server_close()
    assert found[("batchq_records_total", (("operation", "unit-op"), ("outcome", "applied")))] >= 7
    assert found[("batchq_records_total", (("operation", "unit-op"), ("outcome", "failed")))] >= 2
    assert found[("batchq_chunk_duration_seconds_count", (("operation", "unit-op"),))] >= 1
