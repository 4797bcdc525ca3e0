"""Stopping a job: after DELETE answers "stopped", no record of it is applied."""

from __future__ import annotations

from tests.support.brokers import on_both_brokers
from tests.support.factories import customer, customers
from tests.support.stops import stop_while_parked


def applied_customers(db, tenant_id: int, prefix: str) -> int:
    return db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s AND customer_id LIKE %s",
                      (tenant_id, prefix + "%")).fetchone()[0]


@on_both_brokers
def test_stop_a_queued_job(api, db, paused_workers):
    job_id = api.submit(customers(300, prefix="queued"))
    assert api.job(job_id)["status"] == "queued"

    first = api.request("DELETE", f"/batch/{job_id}")
    assert first.status_code == 200
    body = first.json()
    assert (body["status"], body["finishedCount"], body["errorCount"]) == ("stopped", 0, 0)
    assert body["finishedAt"] is not None
    again = api.request("DELETE", f"/batch/{job_id}")
    assert again.status_code == 200 and again.json() == body

    paused_workers()
    # A job submitted after the resume completes, so the worker did see the stopped one first.
    api.wait(api.submit([customer("after-resume")]))
    assert api.job(job_id) == body
    assert applied_customers(db, api.tenant_id, "queued") == 0
    assert db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s",
                      (job_id,)).fetchone()[0] == 0


@on_both_brokers
def test_stop_a_running_job_applies_nothing_after_the_answer(api, db, database_url):
    def running(job_id):
        body = api.job(job_id)
        assert (body["status"], body["finishedCount"]) == ("running", 200)

    job_id, _, answer = stop_while_parked(api, db, database_url, "run", api.submit, running)
    assert answer.status_code == 200, answer.text
    stopped = answer.json()
    assert stopped["status"] == "stopped"
    # The parked chunks 2 and 3 committed before the stop. A chunk taken up in the instant
    # between their commit and the stop's lock may commit before it too (its job-row lock
    # is shared with theirs): the answer counts it, whole. Never a part of a chunk.
    applied = stopped["finishedCount"]
    assert applied >= 400 and applied % 100 == 0 and stopped["errorCount"] == 0
    assert len(stopped["response"]["successful"]) == applied

    # Let the workers drain what was queued; a later job completing proves they did.
    api.wait(api.submit([customer("run-after")]))
    # Nothing was applied after the answer: the store holds exactly what it counted.
    assert applied_customers(db, api.tenant_id, "run-0") == applied - 2
    assert api.job(job_id) == stopped
    done = db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s AND done_at IS NOT NULL",
                      (job_id,)).fetchone()[0]
    assert done == applied // 100


def test_stopping_a_completed_job_is_a_conflict(api):
    job_id = api.submit([customer("done")])
    api.wait(job_id)
    response = api.request("DELETE", f"/batch/{job_id}")
    assert response.status_code == 409
    assert response.json()["code"] == 4009
    assert api.job(job_id)["status"] == "completed"
