"""Starting a job, counting attempts and completing it, each in as few statements as it takes."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from app.store import callbacks, jobs
from tests.support.factories import customers
from tests.support.jobs import submit_job


@pytest.fixture
def services(make_services):
    return make_services(CHUNK_SIZE="2")


def chunk_rows(db, job_id):
    return db.execute("SELECT chunk_no, first_index, record_count FROM batch_chunks"
                      " WHERE job_id = %s ORDER BY chunk_no", (job_id,)).fetchall()


def test_a_queued_job_is_marked_running_once(services, db_tenant):
    job_id = submit_job(services, db_tenant, customers(1))
    with services.db.transaction() as conn:
        first = jobs.mark_running(conn, job_id)
        again = jobs.mark_running(conn, job_id)
        unknown = jobs.mark_running(conn, 0)
    assert first.status == again.status == "running"
    assert first.started_at is not None and again.started_at == first.started_at
    assert unknown is None


def test_a_job_is_split_once_and_a_second_split_reads_what_the_first_made(services,
                                                                          db_tenant, db):
    job_id = submit_job(services, db_tenant, customers(5))
    with services.db.transaction() as conn:
        assert jobs.split_into_chunks(conn, job_id, 5, 2) == ([0, 1, 2], [])
    assert chunk_rows(db, job_id) == [(0, 0, 2), (1, 2, 2), (2, 4, 1)]
    with services.db.transaction() as conn:
        jobs.complete_chunk(conn, job_id, 1, [{"index": 2}], [{"index": 3}])
    with services.db.transaction() as conn:  # another size changes nothing
        pending, done = jobs.split_into_chunks(conn, job_id, 5, 4)
    assert pending == [0, 2]
    assert done == [jobs.DoneChunk(1, 1, 1, None, None)]
    assert chunk_rows(db, job_id) == [(0, 0, 2), (1, 2, 2), (2, 4, 1)]


def test_a_job_of_exactly_whole_chunks_has_no_empty_last_chunk(services, db_tenant, db):
    job_id = submit_job(services, db_tenant, customers(4))
    with services.db.transaction() as conn:
        assert jobs.split_into_chunks(conn, job_id, 4, 2) == ([0, 1], [])
    assert chunk_rows(db, job_id) == [(0, 0, 2), (1, 2, 2)]


def test_an_attempt_is_counted_unless_applied_or_held(services, db_tenant, database_url):
    job_id = submit_job(services, db_tenant, customers(3))
    with services.db.transaction() as conn:
        jobs.split_into_chunks(conn, job_id, 3, 2)
    with services.db.transaction() as conn:
        assert jobs.begin_chunk_attempt(conn, job_id, 0) == jobs.Attempt(1, None)
        jobs.note_chunk_error(conn, job_id, 0, "boom", refund=False)
    with services.db.transaction() as conn:
        assert jobs.begin_chunk_attempt(conn, job_id, 0) == jobs.Attempt(2, "boom")
        jobs.complete_chunk(conn, job_id, 0, [], [])
    with services.db.transaction() as conn:  # applied: returned as it is, not counted
        assert jobs.begin_chunk_attempt(conn, job_id, 0) == jobs.Attempt(2, "boom", True)
    with psycopg.connect(database_url) as holder:  # another delivery holds chunk 1
        holder.execute("SELECT 1 FROM batch_chunks WHERE job_id = %s AND chunk_no = 1"
                       " FOR UPDATE", (job_id,))
        with services.db.transaction() as conn:
            assert jobs.begin_chunk_attempt(conn, job_id, 1) is None
    with services.db.transaction() as conn:
        assert jobs.begin_chunk_attempt(conn, job_id, 1) == jobs.Attempt(1, None)
        assert jobs.begin_chunk_attempt(conn, job_id, 99) is None  # no such chunk


def test_the_completing_statement_says_whether_a_webhook_waits(services, db_tenant):
    with_callback = submit_job(services, db_tenant, customers(1))
    without = submit_job(services, db_tenant, customers(1))
    pending = callbacks.pending_condition(sql.SQL("j.id"))
    with services.db.transaction() as conn:
        callbacks.attach(conn, with_callback, "https://example.com/hook", b"digest")
        for job_id in (with_callback, without):
            jobs.mark_running(conn, job_id)
            jobs.split_into_chunks(conn, job_id, 1, 2)
            assert jobs.finish_if_done(conn, job_id, returning=pending) is None  # chunk to do
            jobs.complete_chunk(conn, job_id, 0, [{"index": 0}], [])
    with services.db.statement() as conn:
        assert jobs.finish_if_done(conn, with_callback, returning=pending) is True
        assert jobs.finish_if_done(conn, without, returning=pending) is False
        assert jobs.finish_if_done(conn, without, returning=pending) is None  # completed before
        assert jobs.finish_if_done(conn, with_callback) is None


def _synchronous_commit(conn: psycopg.Connection) -> str:
    return conn.execute("SHOW synchronous_commit").fetchone()[0]


def test_a_job_start_commits_without_waiting_for_the_flush_and_a_chunk_attempt_waits(
        services, db_tenant, database_url):
    job_id = submit_job(services, db_tenant, customers(1))
    with psycopg.connect(database_url) as conn:  # in a transaction, to look before commit
        assert jobs.begin_start_attempt(conn, job_id) == 1
        assert _synchronous_commit(conn) == "off"
        conn.rollback()
        assert jobs.mark_running(conn, job_id).status == "running"
        assert _synchronous_commit(conn) == "off"
        jobs.split_into_chunks(conn, job_id, 1, 2)
        conn.commit()
        # The chunk's attempt bounds a chunk that crashes PostgreSQL itself: it waits.
        assert jobs.begin_chunk_attempt(conn, job_id, 0) == jobs.Attempt(1, None)
        assert _synchronous_commit(conn) == "on"
        conn.rollback()


def test_a_start_in_autocommit_leaves_the_session_synchronous(services, db_tenant,
                                                               database_url):
    job_id = submit_job(services, db_tenant, customers(1))
    with psycopg.connect(database_url, autocommit=True) as conn:  # as db.statement() runs it
        assert jobs.begin_start_attempt(conn, job_id) == 1
        # Its own transaction ended with it: the connection's next commit waits again.
        assert _synchronous_commit(conn) == "on"
