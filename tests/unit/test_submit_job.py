"""POST of a job, in-process: which connections it takes, and what it commits."""

from __future__ import annotations

import secrets

import orjson

from app import jobs
from tests.support.factories import customers


def test_a_submission_authenticates_in_one_statement_then_commits_the_job(app, make_tenant,
                                                                          transactions):
    services = app.extensions["batchq"]
    _, pair = make_tenant()
    records = customers(3, prefix=secrets.token_hex(4))
    client = app.test_client()
    transactions.clear()

    answer = client.post("/api/v4.0/integrations/batch/customers", json={"body": records},
                         headers={"APIKey": pair.api_key, "SecretKey": pair.secret_key})

    assert answer.status_code == 202, answer.text
    assert transactions == ["statement", "transaction"]
    job_id = answer.get_json()["jobId"]
    with services.db.transaction() as conn:
        assert orjson.loads(jobs.stored_records(conn, job_id)) == records
        assert jobs.get_job(conn, job_id).status == "queued"


def test_a_wrong_secret_is_refused_after_one_statement_and_stores_nothing(app, make_tenant,
                                                                         transactions):
    _, pair = make_tenant()
    client = app.test_client()
    transactions.clear()

    answer = client.post("/api/v4.0/integrations/batch/customers",
                         json={"body": customers(1)},
                         headers={"APIKey": pair.api_key, "SecretKey": "wrong"})

    assert answer.status_code == 401
    assert transactions == ["statement"]
