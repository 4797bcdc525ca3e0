"""The ledger under concurrency: parallel jobs on two worker processes over a few customers.

Thousands of cashbacks, redemptions and adjustments (with repeated transactionIds) race
for four customers' balances. Afterwards every balance equals its ledger's sum, never went
below zero, the ledger holds exactly what the outcomes report, and no record failed for a
reason other than its own (no deadlock, lock timeout or internal error).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

CUSTOMERS = [f"L-{n}" for n in range(4)]
WHEN = "2025-03-14T10:00:00Z"
JOB_SIZE = 500
# What the generated records meet by design: a balance that cannot cover a debit (9008),
# and a transactionId applied already (9004: the repeats). Anything else is the service's.
OWN_FAILURE_CODES = {9004, 9008}


def job_records(kind: str, job: int, rng: random.Random) -> list[dict]:
    """Return one job's records; each job repeats some transactionIds of the job before."""
    records: list[dict] = []
    for n in range(JOB_SIZE):
        if n % 25 == 24:   # the same record again, in the same request
            records.append(dict(records[n - 7]))
            continue
        # Every 10th record reuses the id of the previous job's record n (customer random).
        tx = f"{kind}-{job - 1 if n % 10 == 0 and job > 0 else job}-{n}"
        customer = rng.choice(CUSTOMERS)
        if kind == "cashback":
            records.append({"customerId": customer, "transactionId": tx,
                            "transactionTime": WHEN, "amount": rng.randint(1, 40)})
        elif kind == "redeem":
            records.append({"customerId": customer, "transactionId": tx,
                            "points": rng.randint(1, 60)})
        else:
            records.append({"customerId": customer, "transactionId": tx,
                            "amount": rng.choice([-1, 1]) * rng.randint(1, 40)})
    return records


@pytest.fixture
def second_worker(live_service):
    """One more Celery worker process (the service's own is the other one)."""
    worker = live_service.start("worker", WORKER_CONCURRENCY="2")
    live_service.wait_ready(workers=2)
    yield worker
    live_service.stop(worker)


def test_balances_equal_ledgers_and_outcomes_under_parallel_jobs(api, db, live_service,
                                                                 second_worker):
    rng = random.Random(7)
    api.wait(api.submit([{"customerId": c} for c in CUSTOMERS]))
    jobs = [(kind, job_records(kind, job, rng))
            for job in range(2) for kind in ("cashback", "redeem", "balance-adjustment")]
    with ThreadPoolExecutor(len(jobs)) as pool:
        ids = list(pool.map(lambda job: api.submit(job[1], job[0]), jobs))
        bodies = list(pool.map(lambda job_id: api.wait(job_id, timeout=240), ids))
    assert sum(len(records) for _, records in jobs) >= 3000

    reported: Counter[str] = Counter()
    applied = repeats = 0
    for body in bodies:
        assert (body["status"], body["finishedCount"] + body["errorCount"]) == (
            "completed", JOB_SIZE)
        for entry in body["response"]["failed"]:
            assert entry["code"] in OWN_FAILURE_CODES, entry
            repeats += entry["code"] == 9004
        for entry in body["response"]["successful"]:
            reported[entry["customerId"]] += entry["points"]
            assert entry["balance"]["available"] >= 0
            applied += 1
    assert repeats > 0 and applied > 1000  # the run did exercise repeats and real changes

    rows = db.execute("SELECT customer_id, points FROM points_ledger WHERE tenant_id = %s"
                      " ORDER BY id", (api.tenant_id,)).fetchall()
    assert len(rows) == applied
    running: dict[str, int] = defaultdict(int)
    for customer_id, points in rows:
        running[customer_id] += points
        # Writers of one customer queue on its balance row, so ids follow commit order.
        assert running[customer_id] >= 0, (customer_id, running[customer_id])
    balances = dict(db.execute("SELECT customer_id, available FROM points_balances"
                               " WHERE tenant_id = %s", (api.tenant_id,)).fetchall())
    assert balances == dict(running) == {c: reported[c] for c in CUSTOMERS}
    logs = "".join(path.read_text(errors="replace") for path in live_service.log_dir.iterdir())
    assert "deadlock detected" not in logs   # not even as a retried chunk
