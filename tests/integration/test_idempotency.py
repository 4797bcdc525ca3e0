"""Idempotent submits: one Idempotency-Key, one job, however often and however concurrently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.factories import customer, customers


def post(api, records, key, **kwargs):
    return api.request("POST", "/batch/customers", json={"body": records},
                       headers={"Idempotency-Key": key}, **kwargs)


def job_count(db, tenant_id: int) -> int:
    return db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (tenant_id,)).fetchone()[0]


def test_same_key_same_body_answers_the_first_job(api, db):
    records = customers(3, prefix="idem")
    first = post(api, records, "import-2026-11-29-part-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    api.wait(first.json()["jobId"])

    again = post(api, records, "import-2026-11-29-part-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert job_count(db, api.tenant_id) == 1


def test_same_key_other_body_is_refused(api, db):
    assert post(api, [customer("idem-a")], "key-1").status_code == 200
    response = post(api, [customer("idem-b")], "key-1")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == 4022 and "key-1" in body["message"]
    other_url = api.request("POST", "/batch/customers", json={"body": [customer("idem-a")]},
                            headers={"Idempotency-Key": "key-1",
                                     "X-Callback-URL": "https://example.com/hook"})
    assert other_url.status_code == 422
    assert job_count(db, api.tenant_id) == 1


def test_keys_are_per_tenant(api, other_api):
    records = [customer("idem-shared")]
    assert post(api, records, "same").json()["jobId"] != post(other_api, records, "same").json()["jobId"]


def test_concurrent_identical_requests_create_one_job(api, db):
    records = customers(1000, prefix="race")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(api, records, "race-key"), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["jobId"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert job_count(db, api.tenant_id) == 1
    assert api.wait(answers[0].json()["jobId"])["finishedCount"] == 1000


def test_an_expired_key_starts_a_new_job(api, db):
    records = [customer("idem-old")]
    first = post(api, records, "old-key").json()["jobId"]
    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"
               " WHERE job_id = %s", (first,))
    second = post(api, records, "old-key")
    assert second.status_code == 200 and second.json()["jobId"] != first
    assert "Idempotent-Replayed" not in second.headers
    assert post(api, records, "old-key").json()["jobId"] == second.json()["jobId"]


@pytest.mark.parametrize("key", ["has space", "x" * 256, "caf\u00e9"])
def test_bad_keys_answer_400(api, db, key):
    response = api.request("POST", "/batch/customers", json={"body": [customer("k")]},
                           headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 422
    assert response.json()["code"] == 3003 and "idempotencyKey" in response.json()["errors"]
    assert job_count(db, api.tenant_id) == 0
