"""/metrics against the live service: the figures move as jobs are queued and applied."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.brokers import on_both_brokers
from tests.support.factories import customer, customers
from tests.support.service import wait_until


def scrape(live_service) -> dict[tuple[str, tuple], float]:
    """Return every sample of /metrics by (name, sorted labels)."""
    response = requests.get(f"{live_service.base_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@on_both_brokers
def test_records_chunks_and_jobs_move_after_a_job(api, live_service):
    before = scrape(live_service)
    job_id = api.submit([*customers(247), *(customer(f"bad-{i}", gender="X") for i in range(3))])
    assert api.wait(job_id)["status"] == "completed"

    # The worker counts a chunk right after its commit, which GET may see a moment earlier.
    def moved():
        after = scrape(live_service)
        return after if value(after, "batchq_chunk_duration_seconds_count", operation="customers") \
            >= value(before, "batchq_chunk_duration_seconds_count", operation="customers") + 3 \
            else None
    after = wait_until(moved, timeout=10, what="the chunks to be counted")

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    # Other tests' jobs may be settling too: ours are at least counted.
    assert delta("batchq_records_total", operation="customers", outcome="applied") >= 247
    assert delta("batchq_records_total", operation="customers", outcome="failed") >= 3
    assert delta("batchq_chunk_duration_seconds_sum", operation="customers") > 0
    assert delta("batchq_jobs", status="completed") >= 1
    assert value(after, "batchq_workers_alive") >= 1
    assert {"batch", "callbacks"} <= {dict(labels)["queue"] for name, labels in after
                                      if name == "batchq_queue_depth"}


@on_both_brokers
def test_queue_depth_and_the_oldest_queued_job_while_workers_are_paused(api, live_service,
                                                                        paused_workers):
    job_id = api.submit(customers(5))

    def waiting():
        samples = scrape(live_service)
        return samples if (value(samples, "batchq_queue_depth", queue="batch") >= 1
                           and value(samples, "batchq_oldest_queued_job_age_seconds") > 0) else None
    samples = wait_until(waiting, timeout=10, what="the queued job to show")
    queued = value(samples, "batchq_jobs", status="queued")
    assert queued >= 1

    paused_workers()
    api.wait(job_id)
    # Other tests may leave jobs queued in this database (unit tests enqueue nowhere).
    assert value(scrape(live_service), "batchq_jobs", status="queued") <= queued - 1
