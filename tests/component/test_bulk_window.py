"""A bulk job's chunks go to their own queue, a window at a time, and a stop leaves what was
never applied listed as unprocessed (the sweeper's part: tests/component/test_sweeper.py)."""

from __future__ import annotations

from itertools import islice

import pytest

from app.domain import stopping
from app.domain.unprocessed import unprocessed_entries
from app.store import jobs
from tests.support.factories import customers
from tests.support.jobs import read_job, sent, submit_upload
from workers import engine


@pytest.fixture
def services(make_services):
    return make_services(CHUNK_SIZE="2", BULK_CHUNKS_IN_FLIGHT="2", STALLED_AFTER_SECONDS="60")


def bulk_messages(services) -> list:
    return sent(services, services.config.BULK_QUEUE)


def in_flight(services, job_id: int) -> list[int]:
    with services.db.transaction() as conn:
        return jobs.in_flight_chunks(conn, job_id)


def test_a_bulk_job_sends_a_window_and_each_applied_chunk_sends_the_next(services, db_tenant):
    job_id = submit_upload(services, db_tenant, customers(9, prefix="win"))  # 5 chunks
    start = engine.start_job(services, job_id)
    assert (start.chunks, start.queue) == ([0, 1], services.config.BULK_QUEUE)
    assert in_flight(services, job_id) == [0, 1]

    engine.apply_chunk(services, job_id, 0)
    assert bulk_messages(services) == [("batch.process_chunk", [job_id, 2])]
    assert in_flight(services, job_id) == [1, 2]
    for chunk_no in (1, 2, 3, 4):
        engine.apply_chunk(services, job_id, chunk_no)
    job = read_job(services, job_id)
    assert (job.status, job.finished_count) == ("completed", 9)
    # The last chunks had no next to send: the queue holds 2, 3, 4 (sent by 0, 1, 2).
    assert [args[1] for _, args in bulk_messages(services)] == [2, 3, 4]


def test_a_stopped_bulk_job_lists_every_record_it_never_applied(services, db_tenant):
    records = customers(9, prefix="unp")
    job_id = submit_upload(services, db_tenant, records)
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 1)  # records 2 and 3
    stopped = stopping.stop_job(services, job_id, tenant_id=db_tenant, by="a test")
    assert (stopped.job.status, stopped.job.finished_count) == ("stopped", 2)

    listed = list(unprocessed_entries(services.db, stopped.job))
    assert [entry["index"] for entry in listed] == [0, 1, 4, 5, 6, 7, 8]
    assert [entry["record"] for entry in listed] == [records[i] for i in (0, 1, 4, 5, 6, 7, 8)]
    assert listed[0]["customerId"] == records[0]["customerId"]
    after = list(islice(unprocessed_entries(services.db, stopped.job, after_index=4), 2))
    assert [entry["index"] for entry in after] == [5, 6]
