"""The points ledger workload: cashbacks, redemptions and adjustments racing for a few customers.

Jobs of the three kinds are cut over ``customers`` customers of the run's own (so they
contend for the same balances), with transactionIds repeated inside a request and across
jobs. After the faults, for every customer of the run:

- its balance equals the sum of its ledger rows, and that sum never went below zero in the
  order the rows were appended;
- every ledger row is one successful, not-already-applied outcome of a job of the run, with
  the same points, and every such outcome has its row: a change applied without its outcome,
  or twice, counts as applied twice; an outcome without its change counts as lost;
- every failed record failed for its own reason (an insufficient balance, a transactionId
  used for another customer, a customer not created yet), never for a deadlock or an error.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict

import psycopg

from devtools.chaos.checks import FINAL, Figures, Submission, SubmittedJob, check_job

KINDS = ("cashback", "redeem", "balance-adjustment")
# The failures the generated records are meant to meet: a transactionId applied already
# (9004, the repeats below), a balance that cannot cover a debit (9008), no such customer
# (7000). Any other failure is the service's fault.
OWN_FAILURE_CODES = frozenset({9004, 9008, 7000})
REPEAT_EVERY, REPEAT_IN_REQUEST_EVERY = 10, 25


class LedgerRun:
    """``jobs`` jobs of ``records`` points records each, over ``customers`` customers."""

    name = "ledger"

    def __init__(self, jobs: int, records: int, customers: int = 6, seed: int = 11) -> None:
        self.jobs, self.records, self.customers = jobs, records, customers
        self.run = secrets.token_hex(3)
        self.rng = random.Random(seed)

    def customer_ids(self) -> list[str]:
        """Return the run's customers."""
        return [f"{self.run}-points-{n}" for n in range(self.customers)]

    def submissions(self) -> list[Submission]:
        """Return the jobs: the kinds in turn, the first cashbacks creating the customers."""
        first = Submission("cashback", [self._cashback(c, f"{self.run}-welcome-{c}", 100)
                                        for c in self.customer_ids()])
        return [first, *(Submission(KINDS[job % len(KINDS)], self._records(job))
                         for job in range(self.jobs))]

    def _records(self, job: int) -> list[dict]:
        kind = KINDS[job % len(KINDS)]
        records: list[dict] = []
        for n in range(self.records):
            if n % REPEAT_IN_REQUEST_EVERY == REPEAT_IN_REQUEST_EVERY - 1:
                records.append(dict(records[n - 7]))  # the same record again, same request
                continue
            # Every 10th record reuses the transactionId of the last job of its kind.
            source = job - len(KINDS) if n % REPEAT_EVERY == 0 and job >= len(KINDS) else job
            tx = f"{self.run}-{kind}-{source}-{n}"
            customer = self.rng.choice(self.customer_ids())
            if kind == "cashback":
                records.append(self._cashback(customer, tx, self.rng.randint(1, 40)))
            elif kind == "redeem":
                records.append({"customerId": customer, "transactionId": tx,
                                "points": self.rng.randint(1, 60)})
            else:
                records.append({"customerId": customer, "transactionId": tx,
                                "amount": self.rng.choice((-1, 1)) * self.rng.randint(1, 40)})
        return records

    @staticmethod
    def _cashback(customer: str, tx: str, amount: int) -> dict:
        return {"customerId": customer, "transactionId": tx,
                "transactionTime": "2025-03-14T10:00:00Z", "amount": amount}

    def check(self, conn: psycopg.Connection, tenant_id: int, jobs: list[SubmittedJob]
              ) -> Figures:
        """Check balances against the ledger, and the ledger against the outcomes."""
        figures = Figures()
        applied: dict[tuple[str, int], int] = {}   # (job, index) -> points, as outcomes say
        for job in jobs:
            outcomes = check_job(conn, job, figures)
            if outcomes is None or outcomes.status not in FINAL:
                continue
            for index, entry in outcomes.successful.items():
                if not entry.get("alreadyApplied"):
                    applied[(job.job_id, index)] = entry.get("points")
            for index, entry in outcomes.failed.items():
                if entry.get("code") not in OWN_FAILURE_CODES:
                    figures.note("unexpected failure", f"job {job.job_id} record {index}: "
                                                       f"{entry.get('error')}")
        rows = conn.execute(
            "SELECT customer_id, points, job_id, record_index FROM points_ledger"
            " WHERE tenant_id = %s AND customer_id = ANY(%s) ORDER BY id",
            (tenant_id, self.customer_ids())).fetchall()
        running: dict[str, int] = defaultdict(int)
        for customer_id, points, job_id, index in rows:
            running[customer_id] += points
            if running[customer_id] < 0:
                figures.note("negative", f"{customer_id} reached {running[customer_id]}")
            if applied.pop((job_id, index), None) != points:
                figures.applied_twice += 1
                figures.note("ledger row without its outcome", f"job {job_id} record {index}")
        for (job_id, index), points in applied.items():
            figures.lost += 1
            figures.note("outcome without its ledger row", f"job {job_id} record {index}: {points}")
        balances = dict(conn.execute(
            "SELECT customer_id, available FROM points_balances WHERE tenant_id = %s"
            " AND customer_id = ANY(%s)", (tenant_id, self.customer_ids())).fetchall())
        for customer_id in self.customer_ids():
            if balances.get(customer_id, 0) != running.get(customer_id, 0):
                figures.note("balance", f"{customer_id} holds {balances.get(customer_id)}, "
                                        f"its ledger sums to {running.get(customer_id, 0)}")
        return figures
