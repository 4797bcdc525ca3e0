"""What a chaos run checks once its jobs ended, against PostgreSQL: workloads and figures.

A workload makes the jobs to submit and knows what each must end with. The runner submits
every workload's jobs, injects faults while they run, stops one job, then asks each
workload to check its own jobs and adds up the figures. Adding a workload (another batch
operation, a points ledger) means one class with ``submissions`` and ``check``, listed in
``devtools.chaos.runner.WORKLOADS``; the job-level checks below hold for every operation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import psycopg

FINAL = ("completed", "failed", "stopped")
_EXAMPLES = 5  # problems listed per kind, so that a bad run stays readable


@dataclass(frozen=True)
class Submission:
    """One job a workload wants submitted."""

    operation: str
    records: list[dict]


@dataclass
class SubmittedJob:
    """A submitted job, with the DELETE answer if the run stopped it."""

    job_id: str
    submission: Submission
    stop_answer: dict | None = None


@dataclass
class Figures:
    """A run's result: what was checked and every way it went wrong."""

    jobs: int = 0
    records: int = 0
    lost: int = 0
    applied_twice: int = 0
    stuck: int = 0
    problems: list[str] = field(default_factory=list)

    def __iadd__(self, other: Figures) -> Figures:
        self.jobs += other.jobs
        self.records += other.records
        self.lost += other.lost
        self.applied_twice += other.applied_twice
        self.stuck += other.stuck
        self.problems += other.problems
        return self

    @property
    def ok(self) -> bool:
        """True if nothing was lost, applied twice or stuck, and nothing else was wrong."""
        return not (self.lost or self.applied_twice or self.stuck or self.problems)

    def note(self, kind: str, message: str) -> None:
        """Keep a problem's description (the first few of each kind)."""
        if sum(p.startswith(kind) for p in self.problems) < _EXAMPLES:
            self.problems.append(f"{kind}: {message}")


class Workload(Protocol):
    """Jobs to submit during a chaos run, and how to tell they ended right."""

    name: str

    def submissions(self) -> list[Submission]:
        """Return the jobs to submit."""

    def check(self, conn: psycopg.Connection, tenant_id: int, jobs: list[SubmittedJob]
              ) -> Figures:
        """Check the ended jobs against the database; return the figures."""


@dataclass(frozen=True)
class JobOutcomes:
    """A job's row and the outcomes its committed chunks recorded, by record index."""

    status: str
    finished_count: int
    error_count: int
    failure_message: str | None
    successful: dict[int, dict]
    failed: dict[int, dict]


def check_job(conn: psycopg.Connection, job: SubmittedJob, figures: Figures
              ) -> JobOutcomes | None:
    """Check what holds for a job of any operation; return its outcomes (None if unknown).

    Final status (completed, or stopped if the run stopped it); counts equal to the
    outcomes; each record at most one outcome, and exactly one once completed; a stopped
    job's outcomes exactly those its DELETE answered.
    """
    row = conn.execute("SELECT status, finished_count, error_count, failure_message"
                       " FROM batch_jobs WHERE id = %s", (job.job_id,)).fetchone()
    total = len(job.submission.records)
    figures.jobs += 1
    figures.records += total
    if row is None:
        figures.lost += total
        figures.note("job missing", job.job_id)
        return None
    status, finished, errors, failure = row
    entries = conn.execute(
        "SELECT s.value, true FROM batch_chunks c,"
        " json_array_elements(convert_from(c.successful, 'UTF8')::json) s"
        " WHERE c.job_id = %s AND c.done_at IS NOT NULL"
        " UNION ALL SELECT f.value, false FROM batch_chunks c,"
        " json_array_elements(convert_from(c.failed, 'UTF8')::json) f"
        " WHERE c.job_id = %s AND c.done_at IS NOT NULL", (job.job_id, job.job_id)).fetchall()
    seen = Counter(entry["index"] for entry, _ in entries)
    twice = sum(n - 1 for n in seen.values() if n > 1)
    if twice:
        figures.applied_twice += twice
        figures.note("outcome twice", f"job {job.job_id}: {twice} records")
    outcomes = JobOutcomes(status, finished, errors, failure,
                           {e["index"]: e for e, ok in entries if ok},
                           {e["index"]: e for e, ok in entries if not ok})
    # A running job's row holds no figures yet: they are written when it ends.
    if status in FINAL and (finished, errors) != (len(outcomes.successful),
                                                  len(outcomes.failed)):
        figures.note("counts", f"job {job.job_id} says {finished}+{errors}, its outcomes are "
                               f"{len(outcomes.successful)}+{len(outcomes.failed)}")
    if status not in FINAL:
        figures.stuck += 1
        figures.note("stuck", f"job {job.job_id} still {status}")
    elif job.stop_answer is not None:
        _check_stopped(job, outcomes, figures)
    elif status != "completed":
        figures.note("not completed", f"job {job.job_id} {status}: {failure}")
    elif len(seen) != total:
        # A problem on its own; whether the records are lost is the workload's to count.
        figures.note("no outcome", f"job {job.job_id}: {total - len(seen)} records")
    return outcomes


def _check_stopped(job: SubmittedJob, outcomes: JobOutcomes, figures: Figures) -> None:
    """A stopped job applied nothing after its DELETE answered: it still shows that answer."""
    answer = job.stop_answer or {}
    answered = answer.get("response") or {"successful": [], "failed": []}
    if outcomes.status != "stopped":
        figures.note("stop", f"job {job.job_id} is {outcomes.status}, not stopped")
    if (outcomes.finished_count, outcomes.error_count) != (answer.get("finishedCount"),
                                                           answer.get("errorCount")):
        figures.note("stop", f"job {job.job_id}'s counts moved after its DELETE answered")
    late = set(outcomes.successful) - {entry["index"] for entry in answered["successful"]}
    if late:
        figures.note("applied after stop", f"job {job.job_id}: records {sorted(late)[:10]}")
