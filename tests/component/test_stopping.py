"""Stopping a job in-process: the DELETE's one stop transaction, and the dashboard's stop."""

from __future__ import annotations

import json
import secrets

from app.domain import stopping
from app.store import callbacks
from tests.support.factories import customers
from tests.support.jobs import read_job, submit_job
from workers import engine


def half_applied_job(services, tenant_id: int) -> str:
    """Return a running job of 3 records whose first chunk (of two) is applied."""
    job_id = submit_job(services, tenant_id, customers(3, prefix=secrets.token_hex(4)))
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 0)
    with services.db.transaction() as conn:
        callbacks.attach(conn, job_id, "https://hooks.example.com/x", b"\x00" * 32)
    return job_id


def callbacks_sent(services) -> list[str]:
    queued = services.redis.lrange(services.config.WEBHOOK_QUEUE, 0, -1)
    return [json.loads(message)["headers"]["task"] for message in queued]


def test_delete_stops_answers_the_chunks_and_sends_the_webhook(app, make_tenant):
    services = app.extensions["batchq"]
    tenant_id, pair = make_tenant()
    job_id = half_applied_job(services, tenant_id)
    client = app.test_client()
    keys = {"APIKey": pair.api_key, "SecretKey": pair.secret_key}

    answer = client.delete(f"/api/v4.0/integrations/batch/{job_id}", headers=keys)

    assert answer.status_code == 200, answer.text
    body = answer.get_json()
    assert (body["status"], body["finishedCount"], body["errorCount"]) == ("stopped", 2, 0)
    assert len(body["response"]["successful"]) == 2
    assert callbacks_sent(services) == ["batch.deliver_callback"]
    again = client.delete(f"/api/v4.0/integrations/batch/{job_id}", headers=keys)
    assert again.status_code == 200 and again.get_json() == body
    shown = client.get(f"/api/v4.0/integrations/batch/{job_id}", headers=keys)
    assert shown.get_json() == body


def test_delete_answers_404_for_another_tenants_job_and_409_for_a_completed_one(
        app, make_tenant):
    services = app.extensions["batchq"]
    owner, _ = make_tenant()
    _, stranger = make_tenant()
    job_id = half_applied_job(services, owner)
    client = app.test_client()

    foreign = client.delete(f"/api/v4.0/integrations/batch/{job_id}",
                            headers={"APIKey": stranger.api_key, "SecretKey": stranger.secret_key})
    assert foreign.status_code == 404
    assert read_job(services, job_id).status == "running"

    engine.apply_chunk(services, job_id, 1)
    assert read_job(services, job_id).status == "completed"
    services.redis.delete(services.config.WEBHOOK_QUEUE)
    refused = stopping.stop_job(services, job_id, tenant_id=None, by="a test")
    assert refused.refused and refused.job.status == "completed"
    assert callbacks_sent(services) == []


def test_the_dashboards_stop_reads_no_chunks(app, make_tenant):
    services = app.extensions["batchq"]
    tenant_id, _ = make_tenant()
    job_id = half_applied_job(services, tenant_id)

    result = stopping.stop_job(services, job_id, tenant_id=None, by="an operator")

    assert (result.job.status, result.job.finished_count, result.chunks) == ("stopped", 2, [])
    assert callbacks_sent(services) == ["batch.deliver_callback"]
