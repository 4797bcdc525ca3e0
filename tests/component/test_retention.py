"""Retention: finished jobs past the period lose their per-record results, keep their summary."""

from __future__ import annotations

from app.domain.status import status_body
from app.store import idempotency, jobs
from tests.support.factories import customer, customers
from tests.support.jobs import read_job, submit_job
from workers import engine, retention


def finish(services, job_id: str) -> None:
    """Run every chunk of the job, as the workers would."""
    for chunk_no in engine.start_job(services, job_id).chunks:
        engine.apply_chunk(services, job_id, chunk_no)


def end_days_ago(db, job_id: str, days: int) -> None:
    db.execute("UPDATE batch_jobs SET finished_at = now() - make_interval(days => %s)"
               " WHERE id = %s", (days, job_id))


def rows_of(db, job_id: str) -> tuple[int, int]:
    """Return how many chunk rows and record rows the job still has."""
    return (db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s", (job_id,)).fetchone()[0],
            db.execute("SELECT count(*) FROM batch_job_records WHERE job_id = %s",
                       (job_id,)).fetchone()[0])


def test_only_jobs_ended_before_the_period_are_purged_and_their_summary_stays(
        make_services, db_tenant, db):
    services = make_services(CHUNK_SIZE="2", RESULT_RETENTION_DAYS="7")
    old = submit_job(services, db_tenant, [*customers(4), customer("bad", email="nope")])
    recent = submit_job(services, db_tenant, customers(3))
    old_but_running = submit_job(services, db_tenant, customers(3))
    for job_id in (old, recent):
        finish(services, job_id)
    engine.start_job(services, old_but_running)
    end_days_ago(db, old, 8)
    end_days_ago(db, recent, 6)

    # Other tests' jobs share the database: count ours by what is left of them.
    assert retention.purge_results(services) >= 1
    assert retention.purge_results(services) == 0  # nothing is purged twice
    assert rows_of(db, old) == (0, 0)
    assert rows_of(db, recent) == (2, 1) and rows_of(db, old_but_running) == (2, 1)

    job = read_job(services, old)
    body = status_body(job, "Customer Creation Batch Job", [], inline_max=1000)
    assert (body["status"], body["totalCount"], body["finishedCount"], body["errorCount"]) == (
        "completed", 5, 4, 1)
    assert body["response"] is None
    assert body["resultsPurgedAt"] == jobs.iso(job.results_purged_at)
    recent_body = status_body(read_job(services, recent), "x", [], inline_max=1000)
    assert "resultsPurgedAt" not in recent_body


def test_a_purge_larger_than_one_batch_takes_every_job(make_services, db_tenant, db,
                                                       monkeypatch):
    services = make_services(RESULT_RETENTION_DAYS="1")
    monkeypatch.setattr(retention, "BATCH", 2)
    ids = [submit_job(services, db_tenant, customers(1)) for _ in range(5)]
    for job_id in ids:
        finish(services, job_id)
        end_days_ago(db, job_id, 2)
    assert retention.purge_results(services) >= 5
    assert all(read_job(services, job_id).results_purged_at for job_id in ids)


def test_the_retention_run_deletes_expired_idempotency_keys_and_keeps_live_ones(
        make_services, db_tenant, db):
    services = make_services(IDEMPOTENCY_KEY_TTL_HOURS="24")

    def submit_with_key(key: str) -> None:
        with services.db.transaction() as conn:
            idempotency.submit_once(
                conn, db_tenant, key, idempotency.fingerprint(key), 24,
                lambda: jobs.create_job(conn, db_tenant, "customers", [customer(key)]))

    def keys() -> list[str]:
        return [row[0] for row in db.execute("SELECT key FROM idempotency_keys"
                                             " WHERE tenant_id = %s ORDER BY key", (db_tenant,))]

    submit_with_key("expired")
    submit_with_key("live")
    for key, age in (("expired", "25 hours"), ("live", "23 hours")):
        db.execute("UPDATE idempotency_keys SET created_at = now() - %s::interval"
                   " WHERE tenant_id = %s AND key = %s", (age, db_tenant, key))
    submit_with_key("later")
    assert keys() == ["expired", "later", "live"]  # a submit leaves expired keys alone

    services.celery.loader.import_default_modules()  # workers.tasks, as a worker does
    services.celery.tasks["batch.purge_results"].apply().get()
    assert keys() == ["later", "live"]
