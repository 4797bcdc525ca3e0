"""The dashboard's rows: every tenant's jobs, a running job's counts from its applied chunks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.store import uploads
from app.store.overview import board_rows
from app.web.board import ago, brief
from tests.support.factories import customer, customers
from tests.support.jobs import submit_job
from workers import engine


def test_a_running_job_counts_its_applied_chunks_and_every_tenant_is_listed(
        make_services, db_tenant, db):
    services = make_services(CHUNK_SIZE="2")
    other = db.execute("INSERT INTO tenants (name) VALUES ('board-other') RETURNING id").fetchone()[0]
    running = submit_job(services, db_tenant, [*customers(3), customer("bad", gender="X")])
    queued = submit_job(services, other, customers(2))
    engine.start_job(services, running)
    engine.apply_chunk(services, running, 1)  # the chunk with the bad record

    with services.db.transaction() as conn:
        rows = {job.id: job for job in board_rows(conn)}
    assert (rows[running].status, rows[running].finished, rows[running].errors,
            rows[running].percent, rows[running].stoppable) == ("running", 1, 1, 50, True)
    assert (rows[queued].tenant, rows[queued].percent) == ("board-other", 0)
    assert list(rows).index(queued) < list(rows).index(running)  # newest first


@pytest.mark.parametrize(("seconds", "said"), [
    (0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (7200, "2 h"), (200000, "2 d")])
def test_durations_are_said_briefly(seconds, said):
    assert brief(seconds) == said
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert ago(now - timedelta(seconds=seconds), now) == said
    assert ago(None, now) == ""


def test_an_open_upload_is_listed_with_nothing_settled(make_services, db_tenant):
    services = make_services()
    with services.db.transaction() as conn:
        job_id = uploads.open_job(conn, db_tenant, "customers")
        rows = {job.id: job for job in board_rows(conn)}
    assert (rows[job_id].status, rows[job_id].total, rows[job_id].percent) == ("open", 0, 0)
