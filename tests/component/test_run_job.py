"""run_job applies a job's first chunk itself and sends the others; a failing first chunk
goes to a task of its own, which retries it as any chunk."""

from __future__ import annotations

import pytest

from app.store import jobs
from tests.support.factories import customers
from tests.support.jobs import read_job, sent, submit_job
from workers import attempts


@pytest.fixture
def services(make_services):
    return make_services(CHUNK_SIZE="100")


def run_job(services, job_id: str) -> None:
    """Run the task here, as a worker would (its messages go to the unconsumed queue)."""
    services.celery.loader.import_default_modules()  # workers.tasks, as a worker does
    services.celery.tasks["batch.run_job"].apply(args=[job_id], task_id=str(job_id)).get()


def chunks_done(services, job_id: str) -> list[int]:
    with services.db.transaction() as conn:
        return [chunk.chunk_no for chunk in jobs.done_chunks(conn, job_id)]


def test_the_first_chunk_is_applied_by_run_job_and_the_rest_sent(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(250))
    run_job(services, job_id)

    assert chunks_done(services, job_id) == [0]
    assert sent(services) == [("batch.process_chunk", [job_id, 1]),
                              ("batch.process_chunk", [job_id, 2])]
    assert read_job(services, job_id).status == "running"


def test_a_job_of_one_chunk_completes_without_another_message(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(100))
    run_job(services, job_id)

    job = read_job(services, job_id)
    assert (job.status, job.finished_count, job.error_count) == ("completed", 100, 0)
    assert sent(services) == []


def test_a_first_chunk_that_fails_is_sent_to_its_own_task(services, db_tenant,
                                                              monkeypatch):
    job_id = submit_job(services, db_tenant, customers(150))
    real_apply = attempts.engine.apply_chunk

    def failing_apply(services_, job_id_, chunk_no, **kwargs):
        if chunk_no == 0 and not kwargs:
            raise RuntimeError("poisoned")
        return real_apply(services_, job_id_, chunk_no, **kwargs)
    monkeypatch.setattr(attempts.engine, "apply_chunk", failing_apply)
    run_job(services, job_id)

    assert chunks_done(services, job_id) == []
    assert sent(services) == [("batch.process_chunk", [job_id, 1]),
                              ("batch.process_chunk", [job_id, 0])]
    with services.db.transaction() as conn:
        attempt, error = conn.execute(
            "SELECT attempts, last_error FROM batch_chunks WHERE job_id = %s AND chunk_no = 0",
            (job_id,)).fetchone()
    assert attempt == 1 and error == "RuntimeError: poisoned"
