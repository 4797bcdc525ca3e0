"""A job run in-process by its tasks: when it completes, its live counters in Redis."""

from __future__ import annotations

import secrets

import pytest

from tests.support.factories import customers
from tests.support.jobs import read_job, submit_job
from workers import tasks


@pytest.fixture
def services(app):
    return app.extensions["batchq"]


def test_a_job_of_one_chunk_completes_without_live_counters(app, services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(2, prefix=secrets.token_hex(4)))

    with app.app_context():
        tasks.run_job.run(job_id)

    job = read_job(services, job_id)
    assert (job.status, job.finished_count, job.error_count) == ("completed", 2, 0)
    # None in Redis at any point: GET sums the one chunk instead.
    assert services.redis.keys(f"batchq:{{{job_id}}}:*") == []


def test_a_job_of_one_chunk_completes_in_the_chunk_transaction(app, services, db_tenant, db):
    job_id = submit_job(services, db_tenant, customers(2, prefix=secrets.token_hex(4)))

    with app.app_context():
        tasks.run_job.run(job_id)

    # now() is the transaction's start: one transaction stamps both with the same instant.
    done_at, finished_at = last_chunk_done_and_job_finished(db, job_id)
    assert finished_at == done_at


def test_a_job_of_several_chunks_completes_after_its_last_chunk_commits(app, services,
                                                                        db_tenant, db):
    job_id = submit_job(services, db_tenant, customers(3, prefix=secrets.token_hex(4)))

    with app.app_context():
        tasks.run_job.run(job_id)
        tasks.process_chunk.run(job_id, 1)

    last_done, finished_at = last_chunk_done_and_job_finished(db, job_id)
    assert finished_at > last_done  # its own statement, after the chunk's transaction


def last_chunk_done_and_job_finished(db, job_id: str):
    """When the job's last chunk was applied, and when the job completed."""
    return db.execute(
        "SELECT max(c.done_at), j.finished_at FROM batch_jobs j JOIN batch_chunks c"
        " ON c.job_id = j.id WHERE j.id = %s GROUP BY j.finished_at", (job_id,)).fetchone()


def test_a_job_of_several_chunks_counts_each_live_then_drops_the_counters(
        app, services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(3, prefix=secrets.token_hex(4)))

    with app.app_context():
        tasks.run_job.run(job_id)   # applies chunk 0 of 2 (CHUNK_SIZE 2), sends chunk 1
        assert services.progress.counts(job_id) == (2, 0)
        tasks.process_chunk.run(job_id, 1)

    assert read_job(services, job_id).status == "completed"
    assert services.progress.counts(job_id) is None
