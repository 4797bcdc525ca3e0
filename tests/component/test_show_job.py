"""GET of a job, in-process: the key pair, the job and its committed chunks."""

from __future__ import annotations

import secrets

from app import create_app
from app.config import Config
from tests.support.factories import customers
from tests.support.jobs import submit_job
from workers import engine


def test_a_running_job_is_read_with_its_committed_chunks(app, make_tenant):
    services = app.extensions["batchq"]
    tenant_id, pair = make_tenant()
    job_id = submit_job(services, tenant_id, customers(3, prefix=secrets.token_hex(4)))
    engine.start_job(services, job_id)
    engine.apply_chunk(services, job_id, 0)  # CHUNK_SIZE 2: one of two chunks applied
    client = app.test_client()

    answer = client.get(f"/api/v4.0/integrations/batch/{job_id}",
                        headers={"APIKey": pair.api_key, "SecretKey": pair.secret_key})

    assert answer.status_code == 200, answer.text
    body = answer.get_json()
    assert (body["status"], body["finishedCount"], body["errorCount"]) == ("running", 2, 0)
    assert [entry["index"] for entry in body["response"]["successful"]] == [0, 1]


def test_a_wrong_secret_or_another_tenants_job_still_answers_401_and_404(app, make_tenant):
    services = app.extensions["batchq"]
    owner_id, _ = make_tenant()
    _, stranger = make_tenant()
    job_id = submit_job(services, owner_id, customers(1, prefix=secrets.token_hex(4)))
    client = app.test_client()
    path = f"/api/v4.0/integrations/batch/{job_id}"

    wrong = client.get(path, headers={"APIKey": stranger.api_key, "SecretKey": "nope"})
    other = client.get(path, headers={"APIKey": stranger.api_key,
                                      "SecretKey": stranger.secret_key})
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, 1000)
    assert (other.status_code, other.get_json()["code"]) == (404, 4004)


def test_a_request_without_keys_is_refused_even_without_a_database(redis_url):
    # Nothing listens on port 9: a request that needed PostgreSQL would answer 503.
    app = create_app(Config({"DATABASE_URL": "postgresql://127.0.0.1:9/none",
                             "REDIS_URL": redis_url}))
    answer = app.test_client().get("/api/v4.0/integrations/batch/some-job",
                                   headers={"APIKey": "only-half"})

    assert (answer.status_code, answer.get_json()["code"]) == (401, 1001)
