"""The listing's figures: a running job's summed from its applied chunks, others from the row."""

from __future__ import annotations

from app.store import job_listing
from tests.support.factories import customers
from tests.support.jobs import submit_job
from workers import engine


def listed(services, tenant_id: int) -> dict[str, tuple[int, int] | None]:
    with services.db.transaction() as conn:
        found = job_listing.list_jobs(conn, tenant_id, job_listing.JobFilter(), before=None,
                                      limit=10)
    return {item.job.id: item.counts for item in found}


def test_a_running_job_is_listed_with_its_applied_chunks_summed(make_services, db_tenant):
    services = make_services(CHUNK_SIZE="2")
    untouched, half_done, done = (submit_job(services, db_tenant, customers(3))
                                  for _ in range(3))
    for job_id in (untouched, half_done, done):
        engine.start_job(services, job_id)
    engine.apply_chunk(services, half_done, 0)
    for chunk_no in (0, 1):
        engine.apply_chunk(services, done, chunk_no)

    counts = listed(services, db_tenant)
    # Running with no chunk applied yet: zeros, as integers, not NULL.
    assert counts == {untouched: (0, 0), half_done: (2, 0), done: None}
    assert all(type(n) is int for n in counts[half_done])
