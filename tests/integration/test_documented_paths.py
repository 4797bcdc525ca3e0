"""Gameball's published document's view of the same jobs: the create's answer, the status
and stop paths of ``/batches/{batchId}``, and job ids from before integer ids."""

from __future__ import annotations

import secrets

from tests.support.factories import customer, customers


def test_the_create_answers_200_with_an_integer_job_id(api):
    response = api.request("POST", "/batch/customers", json={"body": [customer("doc-200")]})
    assert response.status_code == 200
    body = response.json()
    assert body == {"jobId": body["jobId"], "status": "queued"}
    assert type(body["jobId"]) is int and 0 < body["jobId"] < 2**53
    assert response.headers["Location"] == f"/api/v4.0/integrations/batch/{body['jobId']}"


def test_a_queued_job_is_pending_then_stopping_it_is_completed_and_stopped(api, db,
                                                                         paused_workers):
    job_id = api.submit(customers(3, prefix="doc-pending"))
    status = api.request("GET", f"/batches/{job_id}/status").json()
    assert status == {"batchId": str(job_id), "status": "pending", "progress": 0,
                      "totalItems": 3, "processedItems": 0, "failedItems": 0,
                      "results": [], "errors": []}

    stopped = api.request("POST", f"/batches/{job_id}/stop")
    assert stopped.status_code == 200
    assert stopped.json() == {
        "batchId": str(job_id), "status": "completed", "stopped": True,
        "message": "Batch stopped: 0 of 3 records have an outcome (0 applied, 0 failed); "
                   "no further record is applied."}
    # The same stop as DELETE: the tutorial's path sees it stopped, a second stop answers again.
    assert api.job(job_id)["status"] == "stopped"
    assert api.request("POST", f"/batches/{job_id}/stop").json() == stopped.json()
    after = api.request("GET", f"/batches/{job_id}/status").json()
    assert (after["status"], after["stopped"], after["processedItems"]) == ("completed", True, 0)
    paused_workers()  # resume
    api.wait(api.submit([customer("doc-after-resume")]))
    assert db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s AND customer_id"
                      " LIKE 'doc-pending-%%'", (api.tenant_id,)).fetchone()[0] == 0


def test_a_completed_job_shows_progress_results_and_errors_with_codes(api):
    job_id = api.submit([customer("doc-ok"), customer("doc-bad", gender="X"),
                         {"email": "no-id@example.com"}])
    api.wait(job_id)
    status = api.request("GET", f"/batches/{job_id}/status").json()
    assert (status["status"], status["progress"], status["totalItems"], status["processedItems"],
            status["failedItems"]) == ("completed", 100, 3, 3, 2)
    assert "stopped" not in status
    assert [(r["customerId"], r["index"]) for r in status["results"]] == [("doc-ok", 0)]
    assert [(e["index"], e["code"]) for e in status["errors"]] == [(1, 3003), (2, 3000)]
    # The tutorial's body says the same.
    assert api.job(job_id)["response"]["failed"] == status["errors"]


def test_stopping_a_completed_job_is_refused_by_both_paths(api):
    job_id = api.submit([customer("doc-done")])
    api.wait(job_id)
    for method, path in (("POST", f"/batches/{job_id}/stop"), ("DELETE", f"/batch/{job_id}")):
        refused = api.request(method, path)
        assert (refused.status_code, refused.json()["code"]) == (409, 4009)


def test_a_job_from_before_integer_ids_is_found_by_its_old_id(api, db):
    job_id = api.submit([customer("doc-legacy")])
    api.wait(job_id)
    old = secrets.token_hex(16)  # as migration 0008 keeps an old job's id
    db.execute("UPDATE batch_jobs SET legacy_id = %s WHERE id = %s", (old, job_id))
    assert api.job(old)["jobId"] == job_id
    assert api.request("GET", f"/batches/{old}/status").json()["batchId"] == str(job_id)
    assert api.request("GET", f"/batch/{old}/successful").json()["jobId"] == job_id
    assert api.request("GET", f"/batch/{secrets.token_hex(16)}").json()["code"] == 4004
