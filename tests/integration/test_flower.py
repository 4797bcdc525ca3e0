"""Flower, started from the Procfile against the test broker, sees the workers and a job's chunks."""

from __future__ import annotations

import pytest
import requests

from tests.support.factories import customers
from tests.support.service import free_port, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def flower(live_service, tmp_path):
    """Flower's base URL; its HTTP API opened without authentication, as on a private network."""
    port = free_port()
    process = live_service.start("flower", FLOWER_PORT=str(port),
                                 FLOWER_UNAUTHENTICATED_API="true",
                                 # Flower's own metrics stay out of the service's directory.
                                 PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        live_service.stop(process)


def get_json(url: str, **params):
    try:
        response = requests.get(url, params=params, timeout=10)
    except requests.ConnectionError:
        return None  # not listening yet
    return response.json() if response.status_code == 200 else None


def test_flower_shows_the_workers_and_the_chunk_tasks_of_a_job(flower, api):
    workers = wait_until(lambda: get_json(f"{flower}/api/workers", refresh="true"),
                         timeout=60, interval=0.5, what="Flower to list the workers")
    assert any(name.startswith("celery@") for name in workers)
    # Flower records the events it sees from now on: submit only once it listens.
    job_id = api.submit(customers(250))  # CHUNK_SIZE 100: three chunks
    assert api.wait(job_id)["status"] == "completed"

    # run_job applies chunk 0 itself; chunks 1 and 2 are tasks of their own.
    chunk_ids = {f"{job_id}:{n}" for n in (1, 2)}

    def seen():
        tasks = get_json(f"{flower}/api/tasks", limit="1000") or {}
        done = {task_id: task for task_id, task in tasks.items()
                if task_id in chunk_ids | {job_id} and task["state"] == "SUCCESS"}
        return tasks if len(done) == 3 else None
    tasks = wait_until(seen, timeout=30, interval=0.5, what="Flower to see the job's tasks")

    assert tasks[job_id]["name"] == "batch.run_job"
    for task_id in chunk_ids:
        assert tasks[task_id]["name"] == "batch.process_chunk"
        assert tasks[task_id]["worker"] in workers
    queues = get_json(f"{flower}/api/queues/length")
    assert "batch" in {queue["name"] for queue in queues["active_queues"]}
