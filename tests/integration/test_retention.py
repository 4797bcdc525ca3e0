"""Retention through the real worker: a purged job still answers its summary, and says so."""

from __future__ import annotations

from celery import Celery

from app.messaging.queue import PURGE_RESULTS
from tests.support.factories import customer, customers
from tests.support.service import wait_until


def test_a_purged_job_answers_its_counts_and_that_its_results_were_purged(api, db, redis_url):
    job_id = api.submit([*customers(3), customer("broken", gender="X")])
    done = api.wait(job_id)
    assert len(done["response"]["successful"]) == 3
    db.execute("UPDATE batch_jobs SET finished_at = finished_at - interval '31 days'"
               " WHERE id = %s", (job_id,))

    # What beat sends, sent now: the worker runs the real task.
    sender = Celery(broker=redis_url)
    try:
        sender.send_task(PURGE_RESULTS, queue="batch")
    finally:
        sender.close()
    purged = wait_until(lambda: (body := api.job(job_id)).get("resultsPurgedAt") and body,
                        timeout=30, what="the job's results to be purged")

    kept = ("jobId", "operation", "status", "totalCount", "finishedCount", "errorCount",
            "createdAt", "startedAt")
    assert {k: purged[k] for k in kept} == {k: done[k] for k in kept}
    assert (purged["finishedCount"], purged["errorCount"], purged["response"]) == (3, 1, None)
    assert db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s",
                      (job_id,)).fetchone()[0] == 0
    page = api.request("GET", f"/batch/{job_id}/failed").json()
    assert (page["failed"], page["resultsPurgedAt"]) == ([], purged["resultsPurgedAt"])
