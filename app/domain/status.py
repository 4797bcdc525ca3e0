"""A job's status as each of Gameball's two pages words it.

``status_body``: the tutorial's body (``GET /batch/{jobId}``), Gameball's fields plus ``jobId``
and ``finishedAt``. ``batch_status_body``: the published document's
(``GET /batches/{batchId}/status``), derived from the first, so both always agree.
"""

from __future__ import annotations

from itertools import chain

from app.store.jobs import DoneChunk, Job, iso


def status_body(job: Job, title: str, chunks: list[DoneChunk],
                live_counts: tuple[int, int] | None = None) -> dict:
    """Return the status body of ``job`` from its committed chunks.

    While the job runs, its counts are the live ones from Redis when given, else the sums
    of its committed chunks; once it ended, they are the figures persisted with it.
    """
    if job.status == "running" and live_counts is None:
        live_counts = (sum(c.finished_count for c in chunks), sum(c.error_count for c in chunks))
    response = None
    # Retention removed a purged job's outcomes: ``resultsPurgedAt`` says so, not empty lists.
    if job.results_purged_at is None and (job.status != "queued" or chunks):
        response = {
            "successful": list(chain.from_iterable(c.successful or () for c in chunks)),
            "failed": list(chain.from_iterable(c.failed or () for c in chunks)),
        }
    return _fields(job, title, live_counts, {"response": response})


def job_summary(job: Job, title: str, live_counts: tuple[int, int] | None = None) -> dict:
    """Return the status body without ``response``: what the job listing shows of a job.

    ``live_counts`` (finished, errors) stand for a running job's figures, which its row
    does not hold yet; a job that ended has its final figures on its row.
    """
    return _fields(job, title, live_counts, {})


def _fields(job: Job, title: str, live_counts: tuple[int, int] | None,
            response_field: dict) -> dict:
    """Return the body's fields in their documented order, ``response_field`` after finishedAt."""
    if job.status == "running":
        finished, errors = live_counts or (0, 0)
    else:
        finished, errors = job.finished_count, job.error_count
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
        **response_field,
    }
    if job.failure_message:
        body["failureMessage"] = job.failure_message
    if job.results_purged_at is not None:
        body["resultsPurgedAt"] = iso(job.results_purged_at)
    return body


# The document knows four states; a stopped job is a completed one there, with ``stopped``.
DOCUMENT_STATUS = {"queued": "pending", "running": "processing", "completed": "completed",
                   "failed": "failed", "stopped": "completed"}


def batch_status_body(job: Job, title: str, chunks: list[DoneChunk],
                      live_counts: tuple[int, int] | None = None) -> dict:
    """Return the published document's status body of ``job``: ``batchId`` (a string, as the
    document types it), the mapped ``status``, ``progress`` (0 to 100, 100 only once every
    record has its outcome), the item counts, and the outcomes as ``results`` and ``errors``."""
    body = status_body(job, title, chunks, live_counts)
    processed = body["finishedCount"] + body["errorCount"]
    response = body["response"] or {}
    shaped = {
        "batchId": str(job.id),
        "status": DOCUMENT_STATUS[job.status],
        "progress": processed * 100 // job.total_count,
        "totalItems": job.total_count,
        "processedItems": processed,
        "failedItems": body["errorCount"],
        "results": response.get("successful", []),
        "errors": response.get("failed", []),
    }
    if job.status == "stopped":
        shaped["stopped"] = True
    return shaped
