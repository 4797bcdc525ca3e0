"""The status body and the listing's summary: their fields, in their documented order."""

from __future__ import annotations

from datetime import datetime, timezone

from app.domain.status import job_summary, status_body
from app.store.jobs import DoneChunk, Job
from app.web.jsonio import dumps

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
FIELDS = ["jobId", "operation", "status", "totalCount", "finishedCount", "errorCount",
          "createdAt", "startedAt", "finishedAt"]


def job(**fields) -> Job:
    return Job(**{"id": "j1", "tenant_id": 1, "operation": "customers", "status": "completed",
                  "total_count": 2, "finished_count": 1, "error_count": 1,
                  "failure_message": None, "created_at": WHEN, "started_at": WHEN,
                  "finished_at": WHEN, **fields})


def test_the_optional_fields_come_after_the_response():
    failed = job(status="failed", failure_message="the broker went away",
                 results_purged_at=WHEN)
    assert list(status_body(failed, "Title", [], inline_max=1000)) == [
        *FIELDS, "response", "failureMessage", "resultsPurgedAt"]
    assert list(job_summary(failed, "Title")) == [*FIELDS, "failureMessage", "resultsPurgedAt"]


def test_the_status_body_is_written_in_this_exact_order():
    chunk = DoneChunk(0, 1, 1, [{"customerId": "a", "index": 0}],
                      [{"customerId": "b", "index": 1, "error": "email: Not a valid email."}])
    assert dumps(status_body(job(), "Customer Creation Batch Job", [chunk], inline_max=1000)) == (
        b'{"jobId":"j1","operation":"Customer Creation Batch Job","status":"completed",'
        b'"totalCount":2,"finishedCount":1,"errorCount":1,'
        b'"createdAt":"2026-01-02T03:04:05.678Z","startedAt":"2026-01-02T03:04:05.678Z",'
        b'"finishedAt":"2026-01-02T03:04:05.678Z","response":{"successful":'
        b'[{"customerId":"a","index":0}],"failed":'
        b'[{"customerId":"b","index":1,"error":"email: Not a valid email."}]}}')


def test_a_running_jobs_counts_are_the_live_ones_or_its_chunks_sums():
    running = job(status="running", finished_count=0, error_count=0, finished_at=None)
    chunk = DoneChunk(0, 1, 1, [], [])
    assert status_body(running, "T", [chunk], inline_max=1000)["finishedCount"] == 1
    assert status_body(running, "T", [chunk], (5, 2), inline_max=1000)["errorCount"] == 2
    assert "response" not in job_summary(running, "T", (5, 2))
