"""Completion webhooks: the final status POSTed to callbackUrl, signed, retried."""

from __future__ import annotations

import hashlib
import hmac

import orjson
import pytest

from app import create_app
from app.config import Config
from app.domain import webhooks
from app.domain.webhooks import SIGNATURE_HEADER, verify
from app.store import callbacks, jobs, tenants
from tests.support.brokers import on_both_brokers
from tests.support.factories import customer, customers
from tests.support.receiver import receiver
from tests.support.service import wait_until


@on_both_brokers
def test_completed_job_is_posted_signed_and_retried_after_a_500(api, db):
    with receiver([500]) as hook:
        response = api.request("POST", "/batch/customers",
                               params={"callbackUrl": f"{hook.url}/hooks/batch?x=1"},
                               json={"body": customers(3) + [customer("bad", gender="X")]})
        assert response.status_code == 200
        job_id = response.json()["jobId"]
        wait_until(lambda: len(hook.received) >= 2, timeout=30, what="a retried delivery")
        final = api.job(job_id)

    first, second = hook.received[:2]
    assert second.path == "/hooks/batch?x=1"
    assert orjson.loads(second.body) == final
    assert final["status"] == "completed" and final["errorCount"] == 1
    assert second.headers["Content-Type"] == "application/json"
    assert first.body == second.body

    # What a receiver does: HMAC-SHA256 keyed by the hex SHA-256 of the SecretKey.
    header = second.headers[SIGNATURE_HEADER]
    stamp, signature = (part.split("=", 1)[1] for part in header.split(","))
    key = hashlib.sha256(api.secret_key.encode()).hexdigest().encode()
    expected = hmac.new(key, f"{stamp}.".encode() + second.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert verify(header, second.body, api.secret_key)
    assert not verify(header, second.body, "sk_someone_else")
    assert not verify(header, second.body.replace(b"completed", b"failed___"), api.secret_key)

    attempts, error, delivered = db.execute(
        "SELECT attempts, last_error, delivered_at FROM job_callbacks WHERE job_id = %s",
        (job_id,)).fetchone()
    assert (attempts, error) == (2, None) and delivered is not None
    assert len(hook.received) == 2


def test_stopped_job_is_posted_to_the_header_url(api, paused_workers):
    with receiver() as hook:
        response = api.request("POST", "/batch/customers", json={"body": customers(2)},
                               headers={"X-Callback-URL": hook.url})
        job_id = response.json()["jobId"]
        stopped = api.request("DELETE", f"/batch/{job_id}").json()
        wait_until(lambda: hook.received, timeout=30, what="the stopped job's webhook")
    assert orjson.loads(hook.received[0].body) == stopped
    assert stopped["status"] == "stopped"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "javascript:alert(1)",
                                 "https://example.com/" + "a" * 300, ""])
def test_bad_callback_urls_answer_400(api, db, url):
    response = api.request("POST", "/batch/customers", params={"callbackUrl": url},
                           json={"body": [customer("cb")]})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == 3003 and "callbackUrl" in response.json()["errors"]
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 0


def test_query_and_header_urls_must_agree(api):
    response = api.request("POST", "/batch/customers",
                           params={"callbackUrl": "https://a.example/hook"},
                           headers={"X-Callback-URL": "https://b.example/hook"},
                           json={"body": [customer("cb")]})
    assert response.status_code == 422 and response.json()["code"] == 3003


def test_a_loopback_callback_is_refused_unless_listed(db, database_url, redis_url,
                                                     make_tenant):
    tenant_id, pair = make_tenant()
    with db.transaction():
        job_id = jobs.create_job(db, tenant_id, "customers", [customer("ssrf")])
        db.execute("UPDATE batch_jobs SET status = 'stopped', finished_at = now() WHERE id = %s",
                   (job_id,))
    app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                             "WEBHOOK_ALLOW_NETWORKS": "10.0.0.0/8,fd00::/8"}))
    services = app.extensions["batchq"]
    with receiver() as hook:
        with db.transaction():
            callbacks.attach(db, job_id, hook.url, tenants.digest(pair.secret_key))
        with app.app_context():
            assert webhooks.deliver(services, job_id) is False  # refused, not to be retried
        assert hook.received == []
    services.db.close()
    attempts, error, delivered = db.execute(
        "SELECT attempts, last_error, delivered_at FROM job_callbacks WHERE job_id = %s",
        (job_id,)).fetchone()
    assert attempts == 1 and delivered is None
    assert error == ("refused: 127.0.0.1 resolves to a non-public address (127.0.0.1) outside "
                     "WEBHOOK_ALLOW_NETWORKS")
