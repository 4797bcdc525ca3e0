"""The sweeper: send again the work of jobs that made no progress for too long.

Broker messages can vanish (Redis flushed or restarted without persistence, a worker
killed while holding one, the broker down when a job was submitted). PostgreSQL still
knows every unfinished job, so Celery beat runs ``sweep`` every ``SWEEP_INTERVAL_SECONDS``:
a job with no progress for ``STALLED_AFTER_SECONDS`` gets its start message again if it
is queued, or one message per chunk sent and not yet applied if it is running (a bulk job's
window, topped up if it is empty: what the last chunks applied claimed may never have been
sent). A chunk whose delivery was lost mid-chunk (its worker's host cut off or killed) is
sent again on its own once its row is free and ``STALLED_AFTER_SECONDS`` have passed, even
while the job's other chunks progress. All go to the job's own queue (``BULK_QUEUE`` for a
bulk job). Sending too much is harmless (a chunk is applied once, however often it is
delivered); sending nothing would leave the job hanging. Completion webhooks whose message
was lost before their first attempt are sent again too (``webhooks.resend_forgotten``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.domain import webhooks
from app.messaging import queue
from app.services import Services
from app.store import jobs
from workers import engine

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    """What one sweep sent again."""

    jobs_started: list[int] = field(default_factory=list)
    chunks_sent: dict[int, list[int]] = field(default_factory=dict)
    jobs_completed: list[int] = field(default_factory=list)
    webhooks_resent: list[int] = field(default_factory=list)


def sweep(services: Services, *, limit: int = 100) -> SweepReport:
    """Re-enqueue the work of up to ``limit`` stalled jobs; return what was sent."""
    config = services.config
    after = config.STALLED_AFTER_SECONDS
    with services.db.transaction() as conn:
        stalled = jobs.claim_stalled_jobs(conn, after, limit)
        pending = {job_id: jobs.chunks_to_send(conn, job_id,
                                               config.BULK_CHUNKS_IN_FLIGHT if bulk else 0)
                   for job_id, status, bulk in stalled if status == "running"}
        orphaned = jobs.claim_orphaned_chunks(conn, after, limit)
        bulk_jobs = {job_id for job_id, _, bulk in stalled if bulk}
        bulk_jobs |= jobs.bulk_among(conn, orphaned.keys() - bulk_jobs)
    report = SweepReport()
    for job_id, status, _ in stalled:
        if status == "queued":
            if queue.enqueue_job(services.celery, job_id,
                                 queue=queue.job_queue(config, job_id in bulk_jobs)):
                report.jobs_started.append(job_id)
        elif pending[job_id]:
            report.chunks_sent[job_id] = pending[job_id]
        elif engine.finish_job(services, job_id):
            # Every chunk was applied but the worker died before completing the job.
            report.jobs_completed.append(job_id)
    for job_id, chunk_nos in orphaned.items():
        sent = report.chunks_sent.setdefault(job_id, [])
        sent.extend(n for n in chunk_nos if n not in sent)
    for job_id, chunk_nos in report.chunks_sent.items():
        queue.enqueue_chunks(services.celery, job_id, chunk_nos,
                             queue=queue.job_queue(config, job_id in bulk_jobs))
    report.webhooks_resent = webhooks.resend_forgotten(
        services, older_than_seconds=services.config.STALLED_AFTER_SECONDS)
    if report.webhooks_resent:
        log.warning("sweeper: webhooks of %s sent again", report.webhooks_resent)
    if stalled or orphaned:
        log.warning("sweeper: %d stalled jobs, %d lost chunks; started %s, chunks sent %s,"
                    " completed %s", len(stalled), sum(map(len, orphaned.values())),
                    report.jobs_started, report.chunks_sent, report.jobs_completed)
    return report
