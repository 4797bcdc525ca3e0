"""The job status body: Gameball's fields, plus ``jobId`` and ``finishedAt``."""

from __future__ import annotations

from itertools import chain

from app.jobs import DoneChunk, Job, iso


def status_body(job: Job, title: str, chunks: list[DoneChunk],
                live_counts: tuple[int, int] | None = None) -> dict:
    """Return the status body of ``job`` from its committed chunks.

    While the job runs, its counts are the live ones from Redis when given, else the sums
    of its committed chunks; once it ended, they are the figures persisted with it.
    """
    if job.status == "running":
        finished, errors = live_counts or (sum(c.finished_count for c in chunks),
                                           sum(c.error_count for c in chunks))
    else:
        finished, errors = job.finished_count, job.error_count
    response = None
    if job.status != "queued" or chunks:
        response = {
            "successful": list(chain.from_iterable(c.successful or () for c in chunks)),
            "failed": list(chain.from_iterable(c.failed or () for c in chunks)),
        }
    body = {
        "jobId": job.id,
        "operation": title,
        "status": job.status,
        "totalCount": job.total_count,
        "finishedCount": finished,
        "errorCount": errors,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "response": response,
    }
    if job.failure_message:
        body["failureMessage"] = job.failure_message
    return body
