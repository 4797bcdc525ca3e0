"""A crash of PostgreSQL itself, not a clean restart: what a job's start comes back as.

A job's start commits without waiting for the disk (``jobs.COMMIT_WITHOUT_FLUSH``); the
chunk's attempt, committed synchronously before any record is applied, carries it to disk.
These tests crash a private embedded server (``pg_ctl stop --mode=immediate``) in between
and after, and read what its crash recovery kept.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from app.store import jobs, tenants
from devtools.servers import EmbeddedPostgres, embedded_postgres
from tests.support.databases import fresh_database
from tests.support.factories import customers

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def server():
    run_dir = Path(tempfile.mkdtemp(prefix="batchq-crash-"))
    try:
        with embedded_postgres(run_dir / "postgres") as postgres:
            # The WAL writer flushes what async commits leave every wal_writer_delay: long
            # enough here that only a synchronous commit, or the crash, comes first. Set
            # before a restart, so that the writer is not asleep (an async commit would wake
            # it at once).
            with psycopg.connect(postgres.url, autocommit=True) as conn:
                conn.execute("ALTER SYSTEM SET wal_writer_delay = '10s'")
            postgres.stop()
            postgres.start()
            yield postgres
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def database_url(server):
    with fresh_database(server.url) as url:
        yield url


def submitted_job(database_url: str) -> str:
    """A queued job of one chunk, committed as the web commits it: synchronously."""
    with psycopg.connect(database_url) as conn:
        tenant_id = tenants.ensure_tenant(conn, "crash")
        return jobs.create_job(conn, tenant_id, "customers", customers(2))


def start(database_url: str, job_id: str) -> None:
    """Start the job as the worker does: its attempt, then the start, each committed."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert jobs.begin_start_attempt(conn, job_id) == 1
    with psycopg.connect(database_url) as conn:
        assert jobs.mark_running(conn, job_id).status == "running"
        assert jobs.split_into_chunks(conn, job_id, 2, 1000) == ([0], [])


def crash_and_recover(server: EmbeddedPostgres) -> None:
    server.crash()
    server.start()


def state(database_url: str, job_id: str) -> tuple[str, int, list[tuple[int, int]]]:
    with psycopg.connect(database_url) as conn:
        job = jobs.get_job(conn, job_id)
        chunks = conn.execute("SELECT chunk_no, attempts FROM batch_chunks WHERE job_id = %s",
                              (job_id,)).fetchall()
    return job.status, job.total_count, chunks


def test_a_crash_right_after_a_start_leaves_the_job_queued_and_it_starts_again(
        server, database_url):
    job_id = submitted_job(database_url)
    start(database_url, job_id)
    assert state(database_url, job_id) == ("running", 2, [(0, 0)])

    crash_and_recover(server)

    # The start was not on disk yet; the job itself was (the web's synchronous commit).
    assert state(database_url, job_id) == ("queued", 2, [])
    start(database_url, job_id)  # as the redelivered message, or the sweeper, would
    assert state(database_url, job_id) == ("running", 2, [(0, 0)])


def test_the_chunk_attempt_commits_the_start_to_disk_with_it(server, database_url):
    job_id = submitted_job(database_url)
    start(database_url, job_id)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert jobs.begin_chunk_attempt(conn, job_id, 0) == jobs.Attempt(1, None)

    crash_and_recover(server)

    # Committed before any record is applied, the attempt survives a crash during the
    # chunk, and the start with it: WAL is flushed in order.
    assert state(database_url, job_id) == ("running", 2, [(0, 1)])
