"""Bounded attempts: a chunk that keeps failing ends with its records failed, never loops."""

from __future__ import annotations

import psycopg
import pytest
from marshmallow import validates

from app.catalogue import OPERATIONS
from app.store import jobs
from tests.support.factories import customer, customers
from tests.support.jobs import read_job, submit_job
from tests.support.operations import add_operation
from workers import attempts, engine
from workers.operations.customers import apply_customers


class PoisonedSchema(type(OPERATIONS["customers"].schema)):
    """The customer schema with a bug that the record ``poison`` triggers."""

    @validates("customerId")
    def crash_on_poison(self, value, **kwargs):
        if value == "poison":
            raise ZeroDivisionError("a bug this record triggers")


@pytest.fixture
def poisoned(monkeypatch):
    add_operation(monkeypatch, "poisoned", PoisonedSchema(), apply_customers,
                  unique_field="customerId")


@pytest.fixture
def services(make_services):
    return make_services(CHUNK_SIZE="2", CHUNK_MAX_ATTEMPTS="3")


def chunk_row(services, job_id, chunk_no):
    with services.db.transaction() as conn:
        return conn.execute("SELECT attempts, last_error, done_at IS NOT NULL FROM batch_chunks"
                            " WHERE job_id = %s AND chunk_no = %s", (job_id, chunk_no)).fetchone()


@pytest.mark.usefixtures("poisoned")
def test_a_poisoned_chunk_fails_its_records_after_its_attempts_and_the_job_completes(
        services, db_tenant, db):
    records = [customer("ok-1"), customer("ok-2"), customer("poison"), customer("ok-3")]
    job_id = submit_job(services, db_tenant, records, operation="poisoned")
    assert engine.start_job(services, job_id) == [0, 1]
    attempts.run_chunk(services, job_id, 0)
    for _ in range(2):  # attempts 1 and 2 of 3 raise, for the task to retry
        with pytest.raises(ZeroDivisionError):
            attempts.run_chunk(services, job_id, 1)
    assert chunk_row(services, job_id, 1) == (2, "ZeroDivisionError: a bug this record triggers",
                                              False)
    report = attempts.run_chunk(services, job_id, 1)  # the last attempt gives up

    assert (report.applied, report.finished_count, report.error_count) == (True, 0, 2)
    job = read_job(services, job_id)
    assert (job.status, job.finished_count, job.error_count) == ("completed", 2, 2)
    with services.db.transaction() as conn:
        failed = [entry for chunk in jobs.done_chunks(conn, job_id) for entry in chunk.failed]
    message = ("record: Could not be applied: its chunk failed 3 attempts "
               "(last error: ZeroDivisionError); it has been logged.")
    assert failed == [{"customerId": "poison", "index": 2, "error": message, "code": 5000},
                      {"customerId": "ok-3", "index": 3, "error": message, "code": 5000}]
    assert db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s",
                      (db_tenant,)).fetchone()[0] == 2


def test_a_chunk_whose_worker_is_lost_every_time_is_given_up(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(2, prefix="lost"))
    engine.start_job(services, job_id)
    for _ in range(3):  # three deliveries counted, each killed before it could commit
        with services.db.transaction() as conn:
            jobs.begin_chunk_attempt(conn, job_id, 0)
    report = attempts.run_chunk(services, job_id, 0)
    assert (report.applied, report.error_count) == (True, 2)
    with services.db.transaction() as conn:
        [chunk] = jobs.done_chunks(conn, job_id)
    assert chunk.failed[0]["error"] == (
        "record: Could not be applied: its chunk failed 3 attempts (the worker applying it "
        "was lost each time); it has been logged.")
    assert read_job(services, job_id).status == "completed"


def test_a_transient_error_gives_its_attempt_back(services, db_tenant, monkeypatch):
    job_id = submit_job(services, db_tenant, customers(2, prefix="blip"))
    engine.start_job(services, job_id)

    def database_gone(*args, **kwargs):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "apply_chunk", database_gone)
    for _ in range(5):  # more than CHUNK_MAX_ATTEMPTS: retries are bounded elsewhere
        with pytest.raises(psycopg.OperationalError):
            attempts.run_chunk(services, job_id, 0)
    assert chunk_row(services, job_id, 0) == (
        0, "OperationalError: server closed the connection unexpectedly", False)
    monkeypatch.undo()
    assert attempts.run_chunk(services, job_id, 0).finished_count == 2


def test_a_redelivered_applied_chunk_counts_no_attempt(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(3, prefix="again"))
    engine.start_job(services, job_id)
    for _ in range(4):
        report = attempts.run_chunk(services, job_id, 0)
    assert (report.skipped_because, report.finished_count) == ("already applied", 2)
    assert chunk_row(services, job_id, 0) == (1, None, True)


def test_a_job_whose_start_keeps_dying_fails_with_a_message(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(2, prefix="nostart"))
    for _ in range(3):
        assert attempts.start_within_budget(services, job_id)
    assert not attempts.start_within_budget(services, job_id)
    job = read_job(services, job_id)
    assert job.status == "failed"
    assert job.failure_message == "The job could not be started in 3 attempts; it has been logged."


def test_a_duplicate_of_a_chunk_in_flight_is_dropped_without_waiting(services, db_tenant,
                                                                     database_url):
    job_id = submit_job(services, db_tenant, customers(2, prefix="dup"))
    engine.start_job(services, job_id)
    with psycopg.connect(database_url) as in_flight:  # another delivery, applying it now
        in_flight.execute("SELECT 1 FROM batch_chunks WHERE job_id = %s AND chunk_no = 0"
                          " FOR UPDATE", (job_id,))
        report = attempts.run_chunk(services, job_id, 0)
    assert (report.applied, report.skipped_because) == (False, "being applied")
    assert chunk_row(services, job_id, 0) == (0, None, False)
    assert attempts.run_chunk(services, job_id, 0).applied
