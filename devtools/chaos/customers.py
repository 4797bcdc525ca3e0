"""The customer import workload: jobs of customers with a known set of invalid records.

Every job has customers of its own (ids ``<run>-<job>-<index>``), so each valid record
must end up stored exactly as submitted, created once and never updated; a record applied
twice shows as a customer whose ``updated_at`` moved past its ``created_at``. One record
in every ``INVALID_EVERY`` is invalid in one of several ways and must fail, never stored.
"""

from __future__ import annotations

import secrets

import psycopg

from devtools.chaos.checks import FINAL, Figures, Submission, SubmittedJob, check_job

INVALID_EVERY = 50
CREATED = "Customer created successfully"
# Ways to break a record, each caught by the customer schema.
_BREAKS = (
    {"email": "not-an-email"},
    {"gender": "X"},
    {"dateOfBirth": "1990-02-30"},
    {"loyaltyTier": "gold"},  # a field the API does not know
)


def is_invalid(index: int) -> bool:
    """Tell whether the record at ``index`` of every job is one of the invalid ones."""
    return index % INVALID_EVERY == INVALID_EVERY // 2


class CustomerImport:
    """``jobs`` jobs of ``records`` customers each."""

    name = "customers"

    def __init__(self, jobs: int, records: int) -> None:
        self.jobs = jobs
        self.records = records
        self.run = secrets.token_hex(3)

    def submissions(self) -> list[Submission]:
        """Return the jobs, each with its own customers."""
        return [Submission("customers", [self.record(job, index) for index in range(self.records)])
                for job in range(self.jobs)]

    def record(self, job: int, index: int) -> dict:
        """Return record ``index`` of job ``job``: valid, or broken one of several ways."""
        customer_id = f"{self.run}-{job:03d}-{index:04d}"
        record = {
            "customerId": customer_id,
            "email": f"{customer_id}@example.com",
            "name": f"Customer {job} {index}",
            "gender": "MF"[index % 2],
            "dateOfBirth": f"19{50 + index % 50}-0{1 + index % 9}-1{index % 10}",
            "tags": ["chaos", f"job-{job}"],
            "custom": {"job": job, "index": index},
        }
        if is_invalid(index):
            record.update(_BREAKS[(job + index) % len(_BREAKS)])
        return record

    def check(self, conn: psycopg.Connection, tenant_id: int, jobs: list[SubmittedJob]
              ) -> Figures:
        """Check outcomes, stored values and single application of every job's records."""
        figures = Figures()
        stored = {row[0]: row[1:] for row in conn.execute(
            "SELECT customer_id, profile, created_at <> updated_at FROM customers"
            " WHERE tenant_id = %s AND customer_id LIKE %s", (tenant_id, f"{self.run}-%"))}
        twice = [customer_id for customer_id, (_, updated) in stored.items() if updated]
        figures.applied_twice += len(twice)
        if twice:
            figures.note("updated after creation", ", ".join(twice[:10]))
        for job in jobs:
            outcomes = check_job(conn, job, figures)
            if outcomes is None or outcomes.status not in FINAL:
                continue  # counted as stuck: its records are kept, not lost
            for index, record in enumerate(job.submission.records):
                self._check_record(job, index, record, stored, outcomes, figures)
        return figures

    def _check_record(self, job: SubmittedJob, index: int, record: dict, stored: dict,
                      outcomes, figures: Figures) -> None:
        customer_id = record["customerId"]
        found = stored.get(customer_id)
        if is_invalid(index):
            if found is not None:
                figures.note("invalid stored", customer_id)
            if index in outcomes.successful:
                figures.note("invalid succeeded", customer_id)
            return
        if job.stop_answer is not None:
            # Stopped: stored exactly when its DELETE answer listed it as applied.
            if (found is not None) != (index in outcomes.successful):
                figures.note("stopped job store", f"{customer_id} stored={found is not None}")
            return
        expected = {k: v for k, v in record.items() if k != "customerId"}
        if found is None or found[0] != expected:
            figures.lost += 1
            figures.note("lost", f"{customer_id} stored as {found and found[0]}")
        outcome = outcomes.successful.get(index)
        if outcome is None or outcome.get("message") != CREATED:
            figures.note("outcome", f"{customer_id}: {outcome or outcomes.failed.get(index)}")
