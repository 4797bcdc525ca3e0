"""POST of a job, in-process: what it commits, and what it refuses."""

from __future__ import annotations

import secrets

import orjson

from app.store import jobs
from tests.support.factories import customers


def test_a_submission_commits_the_job_and_its_records(app, make_tenant):
    services = app.extensions["batchq"]
    _, pair = make_tenant()
    records = customers(3, prefix=secrets.token_hex(4))
    client = app.test_client()

    answer = client.post("/api/v4.0/integrations/batch/customers", json={"body": records},
                         headers={"APIKey": pair.api_key, "SecretKey": pair.secret_key})

    assert answer.status_code == 200, answer.text
    job_id = answer.get_json()["jobId"]
    with services.db.transaction() as conn:
        assert orjson.loads(jobs.stored_records(conn, job_id)) == records
        assert jobs.get_job(conn, job_id).status == "queued"


def test_a_wrong_secret_is_refused_and_stores_nothing(app, make_tenant, db):
    tenant_id, pair = make_tenant()
    client = app.test_client()

    answer = client.post("/api/v4.0/integrations/batch/customers",
                         json={"body": customers(1)},
                         headers={"APIKey": pair.api_key, "SecretKey": "wrong"})

    assert answer.status_code == 401
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (tenant_id,)).fetchone()[0] == 0


def post_raw(client, pair, body: bytes, **headers: str):
    return client.post("/api/v4.0/integrations/batch/customers", data=body,
                       content_type="application/json",
                       headers={"APIKey": pair.api_key, "SecretKey": pair.secret_key, **headers})


def test_the_records_are_stored_as_they_were_sent(app, make_tenant):
    services = app.extensions["batchq"]
    _, pair = make_tenant()
    records = orjson.dumps(customers(2, prefix=secrets.token_hex(4)), option=orjson.OPT_INDENT_2)
    body = b'{\n  "body" : ' + records + b"\n}\n"

    answer = post_raw(app.test_client(), pair, body)

    assert answer.status_code == 200, answer.text
    with services.db.transaction() as conn:
        job_id = answer.get_json()["jobId"]
        assert jobs.stored_records(conn, job_id) == records
        assert jobs.get_job(conn, job_id).total_count == 2


def test_a_resend_spaced_differently_answers_the_first_job_again(app, make_tenant):
    _, pair = make_tenant()
    records = customers(2, prefix=secrets.token_hex(4))
    key = {"Idempotency-Key": secrets.token_hex(8)}
    client = app.test_client()

    first = post_raw(client, pair, orjson.dumps({"body": records}), **key)
    again = post_raw(client, pair, orjson.dumps({"body": records}, option=orjson.OPT_INDENT_2),
                     **key)
    other = post_raw(client, pair, orjson.dumps({"body": records[:1]}), **key)

    assert first.status_code == 200 and again.status_code == 200, again.text
    assert again.get_json()["jobId"] == first.get_json()["jobId"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
