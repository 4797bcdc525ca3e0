"""Retention: the per-record results of finished jobs are purged after RESULT_RETENTION_DAYS.

What goes is what grows with the records: the records as submitted and each chunk's
outcomes. What stays is the job's row: status, counts and timestamps, so a GET still
answers how the job went, and says that its per-record results were purged.
"""

from __future__ import annotations

import logging

from app import jobs
from app.services import Services

log = logging.getLogger(__name__)

# Jobs purged per transaction: short transactions, and locks held only briefly.
BATCH = 200


def purge_results(services: Services) -> int:
    """Purge the results of every job that ended over the retention period ago; return how many."""
    days = services.config.RESULT_RETENTION_DAYS
    purged = 0
    while True:
        with services.db.transaction() as conn:
            ids = jobs.purge_results(conn, days, BATCH)
        purged += len(ids)
        if len(ids) < BATCH:
            break
    if purged:
        log.info("retention: purged the per-record results of %d jobs ended over %d days ago",
                 purged, days)
    return purged
