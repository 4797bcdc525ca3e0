"""The chaos run: a large import under the faults operators meet, then a check of every record.

``Chaos`` holds a running service (the Procfile's web, workers and beat on private
PostgreSQL and Redis servers) and knows how to hurt it: SIGKILL a worker, SIGKILL one of
its pool processes, flush Redis, restart PostgreSQL, stop a job. It also checks what
clients see: the figures GET answers right after the flush, and once every job ended. ``run`` submits the
workloads' jobs, fires a plan of faults as the work progresses, waits for every job to
end, and returns the workloads' figures. ``python -m devtools.chaos`` (``make chaos``) is
the full run; ``tests/integration/test_faults.py`` runs a reduced plan.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import redis
import requests

from batchq_cli.retry_after import retry_after_seconds
from devtools.chaos.checks import FINAL, Figures, SubmittedJob, Workload
from devtools.servers import PrivateServers
from devtools.service import LiveService, wait_until

log = logging.getLogger("devtools.chaos")

PREFIX = "/api/v4.0/integrations"


class Api:
    """The batch API as one tenant's client sees it, retrying what a good client retries."""

    def __init__(self, base_url: str, api_key: str, secret_key: str) -> None:
        self.base_url = base_url
        self.headers = {"APIKey": api_key, "SecretKey": secret_key}
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        # One session per thread: requests.Session is not thread-safe.
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.headers.update(self.headers)
        return self._local.session

    def call(self, method: str, path: str, *, patience: float = 120, **kwargs
             ) -> requests.Response:
        """Send a request; retry 429, 503 and refused connections for up to ``patience`` s."""
        deadline = time.monotonic() + patience
        delay = 0.2
        while True:
            try:
                response = self.session.request(method, f"{self.base_url}{PREFIX}{path}",
                                                timeout=60, **kwargs)
                if response.status_code not in (429, 503):
                    return response
                retry_after = retry_after_seconds(response)
                wait = delay if retry_after is None else retry_after
            except requests.ConnectionError:
                response, wait = None, delay
            if time.monotonic() > deadline:
                if response is None:
                    raise TimeoutError(f"{method} {path}: no answer for {patience}s")
                return response
            time.sleep(min(wait, 5))
            delay = min(delay * 2, 2)

    def submit(self, operation: str, records: list[dict]) -> str:
        """POST a job; return its id."""
        response = self.call("POST", f"/batch/{operation}", json={"body": records})
        if response.status_code != 200:
            raise RuntimeError(f"POST answered {response.status_code}: {response.text[:300]}")
        return response.json()["jobId"]


@dataclass
class Chaos:
    """A running service on private servers, and the faults it can be dealt."""

    service: LiveService
    servers: PrivateServers
    database_url: str
    api: Api
    postgres_down_seconds: float = 15
    jobs: list[SubmittedJob] = field(default_factory=list)
    total_records: int = 0
    faults: int = 0
    problems: list[str] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def kill_worker(self) -> None:
        """SIGKILL a whole worker (a lost node), then start a replacement."""
        victim = self.rng.choice(self.service.processes["worker"])
        log.info("fault: SIGKILL worker %s and its pool", victim.pid)
        self.service.stop(victim, signal.SIGKILL)
        self.service.start("worker")
        self.faults += 1

    def kill_worker_child(self) -> None:
        """SIGKILL one pool process of a worker (the OOM killer); Celery starts another."""
        # A worker started a moment ago may not have forked its pool yet.
        victim = wait_until(self._worker_with_pool, timeout=60, interval=0.2,
                            what="a worker with its pool")
        pid = self.service.kill_worker_child(victim)
        log.info("fault: SIGKILL pool process %s of worker %s", pid, victim.pid)
        self.faults += pid is not None

    def _worker_with_pool(self):
        ready = [worker for worker in self.service.processes["worker"]
                 if self.service.pool_processes(worker)]
        return self.rng.choice(ready) if ready else None

    def flush_redis(self) -> None:
        """FLUSHALL the broker and counters: queued messages and live counts are gone."""
        log.info("fault: FLUSHALL redis")
        with redis.Redis.from_url(self.servers.redis_url) as client:
            client.flushall()
        self.faults += 1
        self.check_live_figures()

    def check_live_figures(self, most: int = 30) -> None:
        """GET unfinished jobs: counts at least what PostgreSQL held just before, at most all."""
        with psycopg.connect(self.database_url) as conn:
            before = {row[0]: row[1:] for row in conn.execute(
                "SELECT j.id, coalesce(sum(c.finished_count), 0), coalesce(sum(c.error_count), 0)"
                " FROM batch_jobs j LEFT JOIN batch_chunks c"
                " ON c.job_id = j.id AND c.done_at IS NOT NULL"
                " WHERE j.status IN ('queued', 'running') GROUP BY j.id"
                " ORDER BY count(c.done_at) DESC LIMIT %s", (most,))}
        totals = {job.job_id: len(job.submission.records) for job in self.jobs}
        for job_id, (finished, errors) in before.items():
            response = self.api.call("GET", f"/batch/{job_id}")
            body = response.json()
            if response.status_code != 200 or (body["status"] in ("queued", "running") and not (
                    body["finishedCount"] >= finished and body["errorCount"] >= errors
                    and body["finishedCount"] + body["errorCount"] <= totals.get(job_id, 0))):
                self.problems.append(f"live figures: job {job_id} answered "
                                     f"{response.status_code} {str(body)[:200]}, "
                                     f"PostgreSQL had {finished}+{errors}")
        log.info("checked the live figures of %d unfinished jobs", len(before))

    def check_final_figures(self) -> None:
        """GET every ended job: the API answers what PostgreSQL holds."""
        with psycopg.connect(self.database_url) as conn:
            rows = {row[0]: row[1:] for row in conn.execute(
                "SELECT id, status, finished_count, error_count FROM batch_jobs")}
        for job in self.jobs:
            if rows.get(job.job_id, ("",))[0] not in FINAL:
                continue  # counted as stuck
            body = self.api.call("GET", f"/batch/{job.job_id}").json()
            answered = (body.get("status"), body.get("finishedCount"), body.get("errorCount"))
            response = body.get("response") or {"successful": [], "failed": []}
            if answered != rows.get(job.job_id) or (len(response["successful"]),
                                                    len(response["failed"])) != answered[1:]:
                self.problems.append(f"final figures: job {job.job_id} answered {answered}, "
                                     f"PostgreSQL holds {rows.get(job.job_id)}")

    def restart_postgres(self) -> None:
        """Stop PostgreSQL (open transactions cut off), keep it down a while, start it."""
        log.info("fault: PostgreSQL down for %ss", self.postgres_down_seconds)
        self.servers.postgres.stop()
        time.sleep(self.postgres_down_seconds)
        self.servers.postgres.start()
        self.faults += 1

    def stop_a_job(self) -> None:
        """DELETE an unfinished job, one part-applied if any, and keep the answer."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT j.id, j.status, count(c.done_at) FROM batch_jobs j"
                " LEFT JOIN batch_chunks c ON c.job_id = j.id"
                " WHERE j.status IN ('queued', 'running') GROUP BY j.id, j.status").fetchall()
        ours = {job.job_id: job for job in self.jobs}
        # Part-applied first (the hardest case: some chunks done, others queued or in
        # flight), then running, then queued; a job that ends meanwhile answers 409.
        ranked = sorted((row for row in rows if row[0] in ours),
                        key=lambda row: (row[2] == 0, row[1] != "running", self.rng.random()))
        for job_id, status, done_chunks in ranked[:5]:
            response = self.api.call("DELETE", f"/batch/{job_id}")
            if response.status_code == 200:
                ours[job_id].stop_answer = answer = response.json()
                log.info("stopped %s job %s with %d chunks done, at %d records", status,
                         job_id, done_chunks, answer["finishedCount"] + answer["errorCount"])
                return
        log.warning("no job left to stop")

    def progress(self) -> float:
        """Return the share of submitted records that have an outcome (0 while unreachable)."""
        try:
            with psycopg.connect(self.database_url, connect_timeout=2) as conn:
                done = conn.execute("SELECT coalesce(sum(finished_count + error_count), 0)"
                                    " FROM batch_chunks WHERE done_at IS NOT NULL").fetchone()[0]
        except psycopg.Error:
            return 0.0
        return done / max(self.total_records, 1)

    def unfinished(self) -> int:
        """Return how many submitted jobs have not ended (all of them while unreachable)."""
        statuses = self._statuses()
        return sum(statuses.get(job.job_id) not in FINAL for job in self.jobs)

    def _statuses(self) -> dict[str, str]:
        try:
            with psycopg.connect(self.database_url, connect_timeout=2) as conn:
                return dict(conn.execute("SELECT id, status FROM batch_jobs").fetchall())
        except psycopg.Error:
            return {}


@dataclass(frozen=True)
class Fault:
    """A fault fired once ``at`` of the submitted records have an outcome."""

    at: float
    inject: Callable[[Chaos], None]


# The full run: several worker kills, one Redis flush, one PostgreSQL restart, one stop.
FULL_PLAN = (
    Fault(0.05, Chaos.kill_worker),
    Fault(0.12, Chaos.stop_a_job),
    Fault(0.20, Chaos.flush_redis),
    Fault(0.35, Chaos.kill_worker_child),
    Fault(0.45, Chaos.restart_postgres),
    Fault(0.60, Chaos.kill_worker),
    Fault(0.75, Chaos.kill_worker_child),
)


def run(chaos: Chaos, workloads: list[Workload], plan: tuple[Fault, ...], tenant_id: int, *,
        timeout: float) -> Figures:
    """Submit the workloads' jobs, fire the plan as they progress, wait, check; the figures."""
    deadline = time.monotonic() + timeout
    submitted: dict[str, list[SubmittedJob]] = {w.name: [] for w in workloads}
    submissions = [(w.name, s) for w in workloads for s in w.submissions()]
    chaos.rng.shuffle(submissions)  # interleave the workloads, so that faults hit them all
    chaos.total_records = sum(len(s.records) for _, s in submissions)

    def submit(item) -> None:
        name, submission = item
        job = SubmittedJob(chaos.api.submit(submission.operation, submission.records),
                           submission)
        submitted[name].append(job)
        chaos.jobs.append(job)

    def reached(share: float) -> bool:
        ended = len(chaos.jobs) == len(submissions) and not chaos.unfinished()
        return ended or time.monotonic() > deadline or chaos.progress() >= share

    with ThreadPoolExecutor(4) as pool:
        sending = pool.map(submit, submissions)  # all scheduled now, sent four at a time
        for fault in plan:
            wait_until(lambda: reached(fault.at), timeout=timeout + 60, interval=0.2,
                       what=f"{fault.at:.0%} of the records done")
            fault.inject(chaos)
        list(sending)  # a submission that failed for good fails the run here
    wait_until(lambda: reached(math.inf), timeout=timeout + 60, interval=0.5,
               what="every job to end")
    chaos.check_final_figures()
    figures = Figures(problems=list(chaos.problems))
    with psycopg.connect(chaos.database_url) as conn:
        for workload in workloads:
            figures += workload.check(conn, tenant_id, submitted[workload.name])
    return figures
