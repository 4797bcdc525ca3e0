"""Retention: the per-record results of finished jobs are purged after RESULT_RETENTION_DAYS.

What goes is what grows with the records: the records as submitted and each chunk's
outcomes. What stays is the job's row: status, counts and timestamps, so a GET still
answers how the job went, and says that its per-record results were purged.

The same run deletes Idempotency-Keys past IDEMPOTENCY_KEY_TTL_HOURS: lookups already treat
them as unused, so deleting them here keeps that work out of every submit's transaction. It
also forgets the heartbeats of worker hosts gone for a day (shown as lost until then), and
discards multi-part uploads left open past BULK_UPLOAD_EXPIRY_HOURS: their parts would
otherwise take space for ever, and each counts against its tenant's BULK_MAX_ACTIVE_JOBS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg

from app.domain import webhooks
from app.services import Services
from app.store import heartbeats, idempotency, jobs, uploads

log = logging.getLogger(__name__)

# Rows purged per transaction: short transactions, and locks held only briefly.
BATCH = 200


def purge_results(services: Services) -> int:
    """Purge the results of every job that ended over the retention period ago; return how many."""
    days = services.config.RESULT_RETENTION_DAYS
    purged = _in_batches(services, lambda conn: len(jobs.purge_results(conn, days, BATCH)))
    if purged:
        log.info("retention: purged the per-record results of %d jobs ended over %d days ago",
                 purged, days)
    return purged


def purge_expired_keys(services: Services) -> int:
    """Delete every Idempotency-Key past its TTL; return how many."""
    hours = services.config.IDEMPOTENCY_KEY_TTL_HOURS
    purged = _in_batches(services, lambda conn: idempotency.purge_expired(conn, hours, BATCH))
    if purged:
        log.info("retention: deleted %d Idempotency-Keys older than %d hours", purged, hours)
    return purged


def discard_expired_uploads(services: Services) -> int:
    """Discard every upload left open past BULK_UPLOAD_EXPIRY_HOURS; return how many."""
    hours = services.config.BULK_UPLOAD_EXPIRY_HOURS
    ids: list[int] = []

    def discard_batch(conn: psycopg.Connection) -> int:
        found = uploads.discard_expired(conn, hours, BATCH)
        ids.extend(found)
        return len(found)

    _in_batches(services, discard_batch)
    for job_id in ids:  # committed: each ends as a stopped job, webhook included
        webhooks.notify_job_ended(services, job_id)
    if ids:
        log.info("retention: discarded %d uploads left open over %d hours", len(ids), hours)
    return len(ids)


def purge_forgotten_hosts(services: Services) -> int:
    """Delete the heartbeats of workers not heard of for a day; return how many."""
    with services.db.transaction() as conn:
        purged = heartbeats.purge_forgotten(conn)
    if purged:
        log.info("retention: forgot %d workers not heard of for %s", purged,
                 heartbeats.FORGET_AFTER)
    return purged


def _in_batches(services: Services, purge_batch: Callable[[psycopg.Connection], int]) -> int:
    """Run ``purge_batch`` a transaction at a time until it purges less than a batch."""
    purged = 0
    while True:
        with services.db.transaction() as conn:
            count = purge_batch(conn)
        purged += count
        if count < BATCH:
            return purged
