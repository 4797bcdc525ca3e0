"""The sweeper: stalled jobs get their work sent again, once per stall period, others never."""

from __future__ import annotations

import json
import secrets

import psycopg
import pytest

from app.store import callbacks, jobs
from tests.support.databases import fresh_database
from tests.support.factories import customers
from tests.support.jobs import read_job, sent, submit_job, submit_upload
from workers import engine, sweeper


@pytest.fixture
def database_url(servers):
    """A database of each test's own: a sweep takes every stalled job of the database.

    In the run's shared database, jobs other tests left queued become stalled once the
    run is older than the stall period, and a sweep would send them too.
    """
    with fresh_database(servers.database_url) as url:
        yield url


@pytest.fixture
def services(make_services):
    return make_services(CHUNK_SIZE="2", STALLED_AFTER_SECONDS="60")


def age(services, job_id: str, seconds: int) -> None:
    """Make the job, and everything it did, ``seconds`` older."""
    shift = f"{seconds} seconds"
    with services.db.transaction() as conn:
        conn.execute("UPDATE batch_jobs SET created_at = created_at - %s::interval,"
                     " started_at = started_at - %s::interval, swept_at = swept_at - %s::interval"
                     " WHERE id = %s", (shift, shift, shift, job_id))
        conn.execute("UPDATE batch_chunks SET done_at = done_at - %s::interval,"
                     " attempted_at = attempted_at - %s::interval,"
                     " swept_at = swept_at - %s::interval WHERE job_id = %s",
                     (shift, shift, shift, job_id))


def test_a_stalled_queued_job_is_started_again_once_per_period(services, db_tenant):
    stalled = submit_job(services, db_tenant, customers(3))
    fresh = submit_job(services, db_tenant, customers(3))
    age(services, stalled, 61)

    report = sweeper.sweep(services)
    assert report.jobs_started == [stalled]
    assert sent(services) == [("batch.run_job", [stalled])]
    assert sweeper.sweep(services).jobs_started == []  # swept now: wait a period
    age(services, stalled, 61)
    assert sweeper.sweep(services).jobs_started == [stalled]
    assert fresh not in sweeper.sweep(services).jobs_started


def test_a_stalled_running_job_gets_its_unapplied_chunks_sent(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(5))
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 1)
    age(services, job_id, 61)

    assert sweeper.sweep(services).chunks_sent == {job_id: [0, 2]}
    assert sent(services) == [("batch.process_chunk", [job_id, 0]),
                              ("batch.process_chunk", [job_id, 2])]


def test_a_chunk_being_attempted_is_progress(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(3))
    engine.start_job(services, job_id)
    age(services, job_id, 61)
    with services.db.transaction() as conn:
        jobs.begin_chunk_attempt(conn, job_id, 0)
    assert sweeper.sweep(services).chunks_sent == {}


def lose_a_delivery(services, job_id: str, chunk_no: int) -> None:
    """Count an attempt at a chunk and apply nothing, as a worker lost mid-chunk leaves it."""
    with services.db.statement() as conn:
        jobs.begin_chunk_attempt(conn, job_id, chunk_no)


def test_a_chunk_lost_mid_delivery_is_sent_again_while_the_job_progresses(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(6))
    engine.start_job(services, job_id)
    lose_a_delivery(services, job_id, 1)
    age(services, job_id, 61)
    engine.apply_chunk(services, job_id, 0)  # the job's other chunks progress meanwhile

    report = sweeper.sweep(services)
    assert report.chunks_sent == {job_id: [1]}
    assert sent(services) == [("batch.process_chunk", [job_id, 1])]
    assert sweeper.sweep(services).chunks_sent == {}  # sent now: wait a whole period
    age(services, job_id, 61)
    engine.apply_chunk(services, job_id, 2)
    assert sweeper.sweep(services).chunks_sent == {job_id: [1]}


def test_a_chunk_whose_row_is_held_is_not_sent_until_its_holder_is_gone(services, db_tenant,
                                                                       database_url):
    job_id = submit_job(services, db_tenant, customers(4))
    engine.start_job(services, job_id)
    lose_a_delivery(services, job_id, 0)
    age(services, job_id, 61)
    engine.apply_chunk(services, job_id, 1)
    # A delivery inside the chunk's transaction: alive, or cut off until the server drops
    # its connection. Either way the chunk is not lost yet.
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM batch_chunks WHERE job_id = %s AND chunk_no = 0"
                       " FOR UPDATE", (job_id,))
        assert sweeper.sweep(services).chunks_sent == {}
    assert sweeper.sweep(services).chunks_sent == {job_id: [0]}


def test_a_stalled_job_and_its_lost_chunk_send_the_chunk_once(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(4))
    engine.start_job(services, job_id)
    lose_a_delivery(services, job_id, 1)
    age(services, job_id, 61)
    assert sweeper.sweep(services).chunks_sent == {job_id: [0, 1]}
    assert sent(services) == [("batch.process_chunk", [job_id, 0]),
                              ("batch.process_chunk", [job_id, 1])]


def test_a_job_whose_chunks_all_applied_is_completed(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(2))
    engine.start_job(services, job_id)
    with services.db.transaction() as conn:  # applied, then the worker died before finishing
        jobs.lock_chunk(conn, job_id, 0)
        jobs.complete_chunk(conn, job_id, 0, [], [{"customerId": "x", "index": 0, "error": "e"},
                                                  {"customerId": "y", "index": 1, "error": "e"}])
    age(services, job_id, 61)
    assert sweeper.sweep(services).jobs_completed == [job_id]
    assert read_job(services, job_id).status == "completed"


def test_stopped_and_finished_jobs_are_left_alone(services, db_tenant):
    stopped = submit_job(services, db_tenant, customers(2))
    with services.db.transaction() as conn:
        jobs.stop_job(conn, db_tenant, stopped)
    done = submit_job(services, db_tenant, customers(1))
    engine.start_job(services, done)
    engine.apply_chunk(services, done, 0)
    age(services, stopped, 3600)
    age(services, done, 3600)
    report = sweeper.sweep(services)
    assert {stopped, done}.isdisjoint([*report.jobs_started, *report.chunks_sent,
                                       *report.jobs_completed])
    assert {stopped, done}.isdisjoint(args[0] for _, args in sent(services))


def test_a_webhook_whose_message_was_lost_is_sent_again_once_per_period(make_services,
                                                                       db_tenant):
    services = make_services(STALLED_AFTER_SECONDS="60", WEBHOOK_RETRY_BACKOFF_MAX="60",
                             WEBHOOK_QUEUE=f"unit-callbacks-{secrets.token_hex(4)}")
    lost, recent, delivered = (submit_job(services, db_tenant, customers(1)) for _ in range(3))
    with services.db.transaction() as conn:
        for job_id in (lost, recent, delivered):
            callbacks.attach(conn, job_id, "https://hooks.example.com/x", b"\x00" * 32)
        conn.execute("UPDATE batch_jobs SET status = 'completed', finished_at = now()"
                     " - CASE WHEN id = %s THEN interval '1 second' ELSE interval '61 seconds' END"
                     " WHERE id = ANY(%s)", (recent, [lost, recent, delivered]))
        conn.execute("UPDATE job_callbacks SET attempts = 1, delivered_at = now()"
                     " WHERE job_id = %s", (delivered,))

    assert sweeper.sweep(services).webhooks_resent == [lost]
    queued = services.redis.lrange(services.config.WEBHOOK_QUEUE, 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == ["batch.deliver_callback"]
    assert sweeper.sweep(services).webhooks_resent == []  # one copy per period
    services.redis.delete(services.config.WEBHOOK_QUEUE)


@pytest.fixture
def bulk_services(make_services):
    return make_services(CHUNK_SIZE="2", BULK_CHUNKS_IN_FLIGHT="2", STALLED_AFTER_SECONDS="60")


def test_the_sweeper_sends_a_stalled_bulk_jobs_window_again(bulk_services, db_tenant):
    job_id = submit_upload(bulk_services, db_tenant, customers(9, prefix="swb"))
    engine.start_job(bulk_services, job_id)
    with bulk_services.db.transaction() as conn:  # a worker lost its chunks, a minute ago
        conn.execute("UPDATE batch_jobs SET created_at = now() - interval '2 minutes',"
                     " started_at = now() - interval '2 minutes' WHERE id = %s", (job_id,))
    report = sweeper.sweep(bulk_services)
    assert report.chunks_sent == {job_id: [0, 1]}
    bulk_queue = bulk_services.config.BULK_QUEUE
    assert [args for _, args in sent(bulk_services, bulk_queue)] == [[job_id, 0], [job_id, 1]]
    assert sent(bulk_services) == []  # nothing of it on the interactive queue


def test_a_window_whose_messages_were_claimed_but_never_sent_is_topped_up(bulk_services,
                                                                          db_tenant):
    job_id = submit_upload(bulk_services, db_tenant, customers(9, prefix="top"))
    with bulk_services.db.transaction() as conn:  # started, its window marked sent, then lost
        conn.execute("UPDATE batch_jobs SET status = 'running', created_at = now() - interval"
                     " '2 minutes', started_at = now() - interval '2 minutes' WHERE id = %s",
                     (job_id,))
        conn.execute("UPDATE batch_chunks SET done_at = now() - interval '2 minutes'"
                     " WHERE job_id = %s AND chunk_no < 2", (job_id,))
    assert sweeper.sweep(bulk_services).chunks_sent == {job_id: [2, 3]}
