"""The job machinery called directly (no broker), on real PostgreSQL and Redis."""

from __future__ import annotations

import pytest

from app import create_app, jobs, tenants
from app.config import Config
from workers import engine
from workers.operations import REGISTRY, Operation
from workers.operations.customers import OPERATION as CUSTOMERS
from workers.operations.customers import apply_customers
from tests.support.factories import customer, customers


@pytest.fixture
def services(database_url, redis_url):
    app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                             "CHUNK_SIZE": "2"}))
    services = app.extensions["batchq"]
    yield services
    services.db.close()
    services.redis.close()


@pytest.fixture
def tenant_id(db):
    tenants.create_tenant(db, "engine")
    return tenants.ensure_tenant(db, "engine")


def submit(services, tenant_id, records, operation="customers") -> str:
    with services.db.transaction() as conn:
        return jobs.create_job(conn, tenant_id, operation, records)


def job_row(services, job_id) -> jobs.Job:
    with services.db.transaction() as conn:
        return jobs.get_job(conn, job_id)


def test_a_chunk_applies_once_however_often_it_is_delivered(services, tenant_id, db):
    job_id = submit(services, tenant_id, customers(3, prefix="once"))
    assert engine.start_job(services, job_id) == [0, 1]
    first = engine.apply_chunk(services, job_id, 0)
    stamp = db.execute("SELECT max(updated_at) FROM customers WHERE customer_id LIKE 'once-%'").fetchone()
    again = engine.apply_chunk(services, job_id, 0)
    assert (first.applied, first.finished_count) == (True, 2)
    assert (again.applied, again.skipped_because, again.finished_count) == (False, "already applied", 2)
    assert db.execute("SELECT max(updated_at) FROM customers WHERE customer_id LIKE 'once-%'").fetchone() == stamp
    assert services.progress.counts(job_id) == (2, 0)
    assert engine.start_job(services, job_id) == [1]  # a redelivered start only re-sends the rest
    engine.apply_chunk(services, job_id, 1)
    done = job_row(services, job_id)
    assert (done.status, done.finished_count, done.error_count) == ("completed", 3, 0)


def test_a_stopped_job_applies_nothing_more(services, tenant_id, db):
    job_id = submit(services, tenant_id, customers(4, prefix="halt"))
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 0)
    with services.db.transaction() as conn:
        stopped = jobs.stop_job(conn, tenant_id, job_id).job
    assert (stopped.status, stopped.finished_count) == ("stopped", 2)
    report = engine.apply_chunk(services, job_id, 1)
    assert (report.applied, report.skipped_because) == (False, "stopped")
    assert db.execute("SELECT count(*) FROM customers WHERE customer_id LIKE 'halt-%'").fetchone()[0] == 2
    assert job_row(services, job_id).finished_count == 2


def test_a_poisoned_record_fails_alone(services, tenant_id, monkeypatch):
    def apply_with_a_bug(conn, tenant, records):
        if any(r.data["customerId"] == "poison" for r in records):
            raise ZeroDivisionError("a bug that only this record triggers")
        return apply_customers(conn, tenant, records)

    monkeypatch.setitem(REGISTRY, "poisoned", Operation(
        name="poisoned", title="Poisoned", schema=CUSTOMERS.schema, apply=apply_with_a_bug,
        unique_field="customerId"))
    records = [customer("p-1"), customer("poison"), customer("p-2")]
    job_id = submit(services, tenant_id, records, operation="poisoned")
    for chunk_no in engine.start_job(services, job_id):
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        chunks = jobs.done_chunks(conn, job_id)
    failed = [entry for c in chunks for entry in c.failed]
    assert failed == [{"customerId": "poison", "index": 1, "error":
                       "record: Could not be applied because of an internal error; it has been logged."}]
    assert sum(c.finished_count for c in chunks) == 2
    assert job_row(services, job_id).status == "completed"


def test_counters_lost_in_redis_are_rebuilt_from_postgres(services, tenant_id):
    job_id = submit(services, tenant_id, customers(6, prefix="lost"))
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 0)
    engine.apply_chunk(services, job_id, 1)
    services.progress.forget(job_id)  # as after a flush
    engine.apply_chunk(services, job_id, 1)  # redelivered: must not count twice
    assert services.progress.counts(job_id) == (4, 0)
    engine.apply_chunk(services, job_id, 2)
    assert job_row(services, job_id).finished_count == 6
