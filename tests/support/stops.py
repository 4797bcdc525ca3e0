"""Stopping a running job at a known point: its chunks 2 and 3 parked on two customers'
locked rows, so that both worker processes are inside them when the DELETE is sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import requests

from tests.support.factories import customer, customers
from tests.support.service import wait_until


def stop_while_parked(api, db, database_url: str, prefix: str,
                      submit: Callable[[list[dict]], int],
                      while_parked: Callable[[int], None] = lambda job_id: None
                      ) -> tuple[int, list[dict], requests.Response]:
    """Submit 1,000 records (chunks of 100) with ``submit``; once both workers wait inside
    chunks 2 and 3, call ``while_parked(job_id)`` and DELETE the job, check that the DELETE
    waits for those chunks, then let them go. Return the job, its records, the answer."""
    blockers = [customer(f"{prefix}-block-2"), customer(f"{prefix}-block-3")]
    api.wait(api.submit(blockers))
    records = customers(1000, prefix=prefix)
    records[250], records[350] = blockers
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM customers WHERE tenant_id = %s AND customer_id LIKE %s"
                       " FOR UPDATE", (api.tenant_id, f"{prefix}-block-%"))
        job_id = submit(records)
        wait_until(lambda: db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%%INSERT INTO customers%%'"
        ).fetchone()[0] == 2, timeout=30, what="both workers to wait inside chunks 2 and 3")
        while_parked(job_id)
        answers = []
        deleting = threading.Thread(
            target=lambda: answers.append(api.request("DELETE", f"/batch/{job_id}")))
        deleting.start()
        time.sleep(0.5)
        assert not answers, "DELETE must wait for the chunks being applied"
        holder.commit()  # the parked chunks commit, then the stop goes through
    deleting.join(30)
    return job_id, records, answers[0]
