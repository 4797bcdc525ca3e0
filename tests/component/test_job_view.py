"""The one statement behind GET /batch/{jobId}: what it reads, and for whom."""

from __future__ import annotations

import secrets

from app.store import jobs
from app.store.job_view import read_job_view
from tests.support.factories import customers
from tests.support.jobs import read_job, submit_job
from workers import engine


def _view(services, pair, job_id: str, secret_key: str | None = None):
    with services.db.statement() as conn:
        return read_job_view(conn, pair.api_key, secret_key or pair.secret_key, job_id)


def test_it_reads_the_tenant_the_job_and_its_committed_chunks_in_order(app, make_tenant):
    services = app.extensions["batchq"]
    tenant_id, pair = make_tenant()
    job_id = submit_job(services, tenant_id, customers(5, prefix=secrets.token_hex(4)))
    engine.start_job(services, job_id)  # CHUNK_SIZE 2: chunks 0, 1 and 2
    engine.apply_chunk(services, job_id, 2)
    engine.apply_chunk(services, job_id, 0)

    view = _view(services, pair, job_id)

    assert view.tenant is not None and view.tenant.id == tenant_id
    assert view.job == read_job(services, job_id)
    with services.db.transaction() as conn:
        assert view.chunks == jobs.done_chunks(conn, job_id)
    assert [chunk.chunk_no for chunk in view.chunks] == [0, 2]
    assert [entry["index"] for entry in view.chunks[1].successful] == [4]


def test_a_queued_job_has_no_chunks(app, make_tenant):
    services = app.extensions["batchq"]
    tenant_id, pair = make_tenant()
    job_id = submit_job(services, tenant_id, customers(1, prefix=secrets.token_hex(4)))

    view = _view(services, pair, job_id)

    assert (view.job.status, view.chunks) == ("queued", [])


def test_nothing_is_shown_to_a_wrong_secret_an_unknown_key_or_another_tenant(app, make_tenant):
    services = app.extensions["batchq"]
    owner_id, owner = make_tenant()
    stranger_id, stranger = make_tenant()
    job_id = submit_job(services, owner_id, customers(1, prefix=secrets.token_hex(4)))

    wrong_secret = _view(services, owner, job_id, secret_key="not-the-secret")
    unknown_key = _view(services, type(owner)("no-such-key", owner.secret_key), job_id)
    other_tenant = _view(services, stranger, job_id)
    unknown_job = _view(services, owner, 0)

    assert wrong_secret == unknown_key == (type(wrong_secret))(None, None, [])
    assert (other_tenant.tenant.id, other_tenant.job, other_tenant.chunks) == (stranger_id, None, [])
    assert (unknown_job.tenant.id, unknown_job.job) == (owner_id, None)


def test_the_statement_runs_outside_a_transaction_and_leaves_the_connection_as_it_was(app):
    services = app.extensions["batchq"]
    with services.db.statement() as conn:
        assert conn.autocommit
        conn.execute("SELECT 1")
        assert conn.info.transaction_status.name == "IDLE"  # no transaction was opened
    with services.db.transaction() as conn:
        assert not conn.autocommit
