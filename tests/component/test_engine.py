"""The job machinery called directly (no broker), on real PostgreSQL and Redis."""

from __future__ import annotations

import threading

import psycopg
import pytest
from marshmallow import Schema, fields, validate

from app import create_app
from app.catalogue import OPERATIONS
from app.config import Config
from app.store import jobs, tenants
from schemas.envelope import STRING_RECORDS
from tests.support.factories import customer, customers
from tests.support.operations import add_operation
from tests.support.service import wait_until
from workers import engine
from workers.operations import Outcome
from workers.operations.customers import apply_customers


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


def test_a_delivery_finding_its_chunk_held_applies_nothing_and_does_not_wait(
        services, tenant_id, database_url):
    job_id = submit(services, tenant_id, customers(2, prefix="held"))
    assert engine.start_job(services, job_id).chunks == [0]  # one chunk: it completes the job
    with psycopg.connect(database_url) as in_flight:  # another delivery, applying it now
        in_flight.execute("SELECT 1 FROM batch_chunks WHERE job_id = %s AND chunk_no = 0"
                          " FOR UPDATE", (job_id,))
        # Waiting would hold the job's share lock that the other delivery's completion
        # needs: a deadlock. The pool's lock_timeout would end the wait, with an error.
        report = engine.apply_chunk(services, job_id, 0)
    assert (report.applied, report.skipped_because) == (False, "being applied or unknown")
    assert job_row(services, job_id).status == "running"
    assert engine.apply_chunk(services, job_id, 0).applied
    assert job_row(services, job_id).status == "completed"


def test_a_stop_waiting_on_a_job_of_one_chunk_sees_it_completed_without_deadlock(
        services, tenant_id, database_url, db):
    # The chunk's transaction completes its job: it upgrades its share lock on the job row
    # while the stop waits for that row. It must not deadlock (each would then wait 1 s
    # for PostgreSQL to abort one).
    first = submit(services, tenant_id, [customer("parked")])
    engine.start_job(services, first)
    engine.apply_chunk(services, first, 0)
    job_id = submit(services, tenant_id, [customer("parked", name="Again")])
    engine.start_job(services, job_id)
    outcomes: dict[str, object] = {}

    def stop():
        with services.db.transaction() as conn:
            outcomes["stop"] = jobs.stop_job(conn, None, job_id)

    with psycopg.connect(database_url) as holder:  # parks the chunk inside its upsert
        holder.execute("SELECT 1 FROM customers WHERE tenant_id = %s AND customer_id ="
                       " 'parked' FOR UPDATE", (tenant_id,))
        applying = threading.Thread(
            target=lambda: outcomes.update(chunk=engine.apply_chunk(services, job_id, 0)))
        applying.start()
        wait_until(lambda: waiting_on_locks(db) == 1, timeout=10,
                   what="the chunk to wait in its upsert")
        stopping = threading.Thread(target=stop)
        stopping.start()
        wait_until(lambda: waiting_on_locks(db) == 2, timeout=10,
                   what="the stop to wait for the job")
    applying.join(10)
    stopping.join(10)

    assert outcomes["chunk"].applied
    assert outcomes["stop"].refused and outcomes["stop"].job.status == "completed"
    assert job_row(services, job_id).status == "completed"


def waiting_on_locks(db) -> int:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND wait_event_type = 'Lock'").fetchone()[0]


def test_a_chunk_applies_once_however_often_it_is_delivered(services, tenant_id, db):
    job_id = submit(services, tenant_id, customers(3, prefix="once"))
    assert engine.start_job(services, job_id).chunks == [0, 1]
    first = engine.apply_chunk(services, job_id, 0)
    stamp = db.execute("SELECT max(updated_at) FROM customers WHERE customer_id LIKE 'once-%'").fetchone()
    again = engine.apply_chunk(services, job_id, 0)
    assert (first.applied, first.finished_count) == (True, 2)
    assert (again.applied, again.skipped_because, again.finished_count) == (False, "already applied", 2)
    assert db.execute("SELECT max(updated_at) FROM customers WHERE customer_id LIKE 'once-%'").fetchone() == stamp
    assert services.progress.counts(job_id) == (2, 0)
    # A redelivered start only sends the rest again.
    assert engine.start_job(services, job_id).chunks == [1]
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

    add_operation(monkeypatch, "poisoned", OPERATIONS["customers"].schema, apply_with_a_bug,
                  unique_field="customerId")
    records = [customer("p-1"), customer("poison"), customer("p-2")]
    job_id = submit(services, tenant_id, records, operation="poisoned")
    for chunk_no in engine.start_job(services, job_id).chunks:
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        chunks = jobs.done_chunks(conn, job_id)
    failed = [entry for c in chunks for entry in c.failed]
    assert failed == [{"customerId": "poison", "index": 1, "code": 5000, "error":
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


def test_records_whose_id_is_not_text_fail_alone_and_duplicates_name_the_first(services,
                                                                             tenant_id):
    records = [customer("dup-1"), {"customerId": ["dup-1"]}, customer("dup-1", name="Again"),
               {"customerId": {"a": 1}}, "not an object", customer("dup-2"), {"customerId": 7}]
    job_id = submit(services, tenant_id, records)
    for chunk_no in engine.start_job(services, job_id).chunks:
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        chunks = jobs.done_chunks(conn, job_id)
    successful = [entry for chunk in chunks for entry in chunk.successful]
    failed = {entry["index"]: entry for chunk in chunks for entry in chunk.failed}
    assert [(s["customerId"], s["index"]) for s in successful] == [("dup-1", 0), ("dup-2", 5)]
    assert sorted(failed) == [1, 2, 3, 4, 6]
    assert failed[2]["error"].startswith("customerId: Duplicate of the record at index 0")
    assert failed[2]["customerId"] == "dup-1"
    assert [failed[i]["customerId"] for i in (1, 3, 4, 6)] == [None, None, None, 7]
    # A value not valid (3003), a required field missing (3000).
    assert {failed[i]["code"] for i in (1, 2, 3, 6)} == {3003}
    assert failed[4]["code"] == 3003


def test_records_that_are_ids_are_loaded_as_their_key_and_reported_by_it(
        services, tenant_id, monkeypatch):
    class Lookup(Schema):
        orderId = fields.String(required=True, validate=validate.Length(min=1, max=5))

    def apply_lookups(conn, context, records):
        return [Outcome(r.index, True, f"found {r.data['orderId']}") for r in records]

    add_operation(monkeypatch, "lookups", Lookup(), apply_lookups, key_field="orderId",
                  record_type=STRING_RECORDS)
    job_id = submit(services, tenant_id, ["A-1", "", "TOO-LONG", 7], "lookups")
    for chunk_no in engine.start_job(services, job_id).chunks:
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        chunks = jobs.done_chunks(conn, job_id)
    successful = [entry for chunk in chunks for entry in chunk.successful]
    failed = [entry for chunk in chunks for entry in chunk.failed]
    assert successful == [{"orderId": "A-1", "index": 0, "message": "found A-1"}]
    assert [(f["orderId"], f["index"], f["code"], f["error"]) for f in failed] == [
        ("", 1, 3003, "orderId: Length must be between 1 and 5."),
        ("TOO-LONG", 2, 3003, "orderId: Length must be between 1 and 5."),
        (7, 3, 3003, "orderId: Not a valid string.")]
