"""Flower, started from the Procfile against the test broker, sees the workers and a job's chunks."""

from __future__ import annotations

import pytest
import requests

from tests.support.factories import customers
from tests.support.service import free_port, wait_until


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


def job_tasks(job_id: int) -> set[str]:
    """The task ids of a 250-record job (CHUNK_SIZE 100): run_job applies chunk 0 itself,
    chunks 1 and 2 are tasks of their own."""
    return {str(job_id), f"{job_id}:1", f"{job_id}:2"}


def test_flower_turns_task_events_on_and_shows_the_workers_and_a_jobs_tasks(flower, api,
                                                                          live_service):
    workers = wait_until(lambda: get_json(f"{flower}/api/workers", refresh="true"),
                         timeout=60, interval=0.5, what="Flower to list the workers")
    assert any(name.startswith("celery@") for name in workers)
    # Workers send no task events until Flower turns them on (its timer, every 5 s), and a
    # job run before that goes unseen: submit jobs until Flower has seen one whole.
    submitted: list[str] = []

    def a_job_seen():
        tasks = get_json(f"{flower}/api/tasks", limit="1000") or {}
        # Seen whole: received (its name known) and succeeded, both after events were on.
        succeeded = {task_id for task_id, task in tasks.items()
                     if task["state"] == "SUCCESS" and task.get("name")}
        for job_id in submitted:
            if job_tasks(job_id) <= succeeded:
                return job_id, tasks
        submitted.append(api.submit(customers(250)))
        assert api.wait(submitted[-1])["status"] == "completed"
        return None
    job_id, tasks = wait_until(a_job_seen, timeout=45, interval=0.5,
                               what="Flower to see a job's tasks")

    worker_logs = "".join(path.read_text() for path in live_service.log_dir.glob("worker-*.log"))
    assert "Events of group {task} enabled by remote" in worker_logs  # Flower did it
    assert tasks[str(job_id)]["name"] == "batch.run_job"
    for task_id in job_tasks(job_id) - {str(job_id)}:
        assert tasks[task_id]["name"] == "batch.process_chunk"
        assert tasks[task_id]["worker"] in workers
    queues = get_json(f"{flower}/api/queues/length")
    assert "batch" in {queue["name"] for queue in queues["active_queues"]}
