"""The faults across the network, under a continuous import, each timed to its recovery.

While jobs of customers keep arriving, one a second until the last fault has recovered
(``CustomerImport``: the same records and checks as ``make chaos``), the run deals the
cluster five faults, one after another:

1. a worker host's every link down while it is inside a chunk's transaction;
2. a worker host's link to the broker (and Redis) down, mid-chunk too;
3. the web host's link to the broker down (POSTs still accepted; beat cut off as well);
4. the web host's link to PostgreSQL down (POSTs answer 503);
5. a worker host killed outright, mid-chunk, and a new host joining.

A fault's recovery is the time from the moment the service can recover (the fault itself
for faults it must outlive while they last: 1, 2, 5; the link mended for the web's, which
no other host can stand in for: 3, 4) until its work is done: every chunk in flight at the
fault applied (1, 2, 5), every job accepted during the cut started (3), the web serving
again (4), the new host beating. Afterwards every job must end, and every record is checked
against PostgreSQL: applied once with its values, never twice, none lost or stuck.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from dataclasses import dataclass, field

import psycopg
import requests

from devtools.chaos.checks import FINAL, Figures, Submission, SubmittedJob
from devtools.chaos.customers import CustomerImport
from devtools.chaos.runner import Api
from devtools.cluster.harness import Cluster
from devtools.service import wait_until

log = logging.getLogger("devtools.cluster")

LIMIT = 300  # seconds: a fault not recovered by then is a failure (the target is 60)


@dataclass
class Recovery:
    """How long one fault took to recover from."""

    fault: str
    seconds: float


@dataclass
class ClusterChaos:
    """A running cluster, a continuous import into it, and the faults it is dealt."""

    cluster: Cluster
    api: Api
    workload: CustomerImport
    rng: random.Random = field(default_factory=random.Random)
    interval: float = 1.0  # seconds between two submissions
    jobs: list[SubmittedJob] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    slowest_503: float = 0.0
    lost_host_seen: float = 0.0
    problems: list[str] = field(default_factory=list)

    # -- the import -------------------------------------------------------------------

    def import_continuously(self, stop: threading.Event) -> threading.Thread:
        """Submit a job every ``interval`` seconds, in a thread, until ``stop`` is set (or the
        workload's jobs are all sent)."""
        def submit_until_stopped() -> None:
            for number in range(self.workload.jobs):
                if stop.is_set():
                    return
                submission = Submission("customers", [
                    self.workload.record(number, index) for index in range(self.workload.records)])
                self.jobs.append(SubmittedJob(self.api.submit(submission.operation,
                                                              submission.records), submission))
                time.sleep(self.interval)
        thread = threading.Thread(target=submit_until_stopped, name="import", daemon=True)
        thread.start()
        return thread

    # -- the faults -------------------------------------------------------------------

    def cut_worker_mid_chunk(self) -> None:
        """Every link of a worker host down while it is inside a chunk's transaction."""
        host, started, in_flight = self._hit_mid_chunk(
            lambda name: self.cluster.network.cut(self.cluster.host(name)),
            lambda name: self.cluster.network.mend(self.cluster.host(name)))
        try:
            self._record(f"{host} cut off mid-chunk", started, lambda: self._applied(in_flight))
        finally:
            self.cluster.network.mend(self.cluster.host(host))

    def cut_worker_broker(self) -> None:
        """A worker host's link to the broker and Redis down mid-chunk; PostgreSQL stays."""
        host = self._worker_mid_chunk()
        started, in_flight = time.monotonic(), self._chunks_in_flight()
        self.cluster.network.cut(self.cluster.host(host), "mq")
        try:
            self._record(f"{host} lost the broker", started, lambda: self._applied(in_flight))
        finally:
            self.cluster.network.mend(self.cluster.host(host), "mq")

    def cut_web_broker(self, seconds: float = 15) -> None:
        """The web host's link to the broker down a while: what it accepts waits, then runs."""
        web = self.cluster.host("web")
        before = set(self._job_ids())
        self.cluster.network.cut(web, "mq")
        time.sleep(seconds)  # the import goes on meanwhile
        accepted = set(self._job_ids()) - before
        self.cluster.network.mend(web, "mq")
        if not accepted:
            self.problems.append("no job was accepted while the web was cut off the broker")
        self._record("web lost the broker", time.monotonic(),
                     lambda: self._started(accepted))

    def cut_web_postgres(self, seconds: float = 10) -> None:
        """The web host's link to PostgreSQL down a while: POSTs answer 503, in bounded time."""
        web = self.cluster.host("web")
        self.cluster.network.cut(web, "db")
        until = time.monotonic() + seconds
        try:
            while time.monotonic() < until:
                asked = time.monotonic()
                answer = self.api.session.post(
                    f"{self.api.base_url}/api/v4.0/integrations/batch/customers",
                    json={"body": [self.workload.record(999, 0)]}, timeout=LIMIT)
                self.slowest_503 = max(self.slowest_503, time.monotonic() - asked)
                if answer.status_code != 503:
                    self.problems.append(f"web without PostgreSQL answered "
                                         f"{answer.status_code}, not 503")
        finally:
            self.cluster.network.mend(web, "db")
        self._record("web lost PostgreSQL", time.monotonic(), self._web_serving)

    def kill_worker_and_join_another(self) -> None:
        """A worker host killed outright mid-chunk, and a new host joining."""
        # Frozen first (SIGSTOP) to be sure it is caught inside a chunk, then killed.
        host, started, in_flight = self._hit_mid_chunk(
            lambda name: self.cluster.host(name).kill_everything(signal.SIGSTOP),
            lambda name: self.cluster.host(name).kill_everything(signal.SIGCONT))
        self.cluster.kill_host(host)
        joined = self.cluster.add_worker_host()
        self._record(f"{host} killed, {joined} joined", started,
                     lambda: self._applied(in_flight))
        self.cluster.wait_for_hosts(lost={host}, timeout=LIMIT)
        self.lost_host_seen = time.monotonic() - started

    FAULTS = ("cut_worker_mid_chunk", "cut_worker_broker", "cut_web_broker", "cut_web_postgres",
              "kill_worker_and_join_another")

    # -- what the faults wait for -----------------------------------------------------

    def _db(self) -> psycopg.Connection:
        return psycopg.connect(self.cluster.database_url, autocommit=True, connect_timeout=5)

    def _worker_mid_chunk(self) -> str:
        """Return a worker host with a session inside a transaction that wrote (a chunk's)."""
        addresses = {self.cluster.host(name).address("db"): name
                     for name in self.cluster.worker_hosts()}
        with self._db() as conn:
            def writing():
                rows = conn.execute(
                    "SELECT host(client_addr) FROM pg_stat_activity"
                    " WHERE backend_xid IS NOT NULL AND application_name LIKE 'batchq-%%'"
                    ).fetchall()
                hosts = [addresses[row[0]] for row in rows if row[0] in addresses]
                return self.rng.choice(hosts) if hosts else None
            return wait_until(writing, timeout=LIMIT, interval=0.01,
                              what="a worker host inside a chunk's transaction")

    def _hit_mid_chunk(self, hit, undo, tries: int = 50):
        """Deal ``hit`` to a worker host mid-chunk: return (host, when, chunks in flight).

        A chunk's transaction lasts milliseconds, so the host may commit between being seen
        inside one and being hit: a hit is kept only if the host's transaction is still open
        in PostgreSQL a moment after (its COMMIT can no longer arrive); else it is undone and
        tried again.
        """
        for _ in range(tries):
            host = self._worker_mid_chunk()
            started, in_flight = time.monotonic(), self._chunks_in_flight()
            hit(host)
            time.sleep(0.5)
            if self._open_transactions(host):
                return host, started, in_flight
            undo(host)
            time.sleep(1)
        raise TimeoutError(f"no worker host was hit inside a chunk in {tries} tries")

    def _open_transactions(self, host: str) -> int:
        with self._db() as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE host(client_addr) = %s"
                " AND backend_xid IS NOT NULL", (self.cluster.host(host).address("db"),)
            ).fetchone()[0]

    def _chunks_in_flight(self) -> set[tuple[str, int]]:
        with self._db() as conn:
            return set(conn.execute(
                "SELECT c.job_id, c.chunk_no FROM batch_chunks c JOIN batch_jobs j"
                " ON j.id = c.job_id WHERE j.status = 'running' AND c.done_at IS NULL"
                " AND c.attempted_at IS NOT NULL").fetchall())

    def _applied(self, chunks: set[tuple[str, int]]) -> bool:
        with self._db() as conn:
            pending = conn.execute(
                "SELECT count(*) FROM batch_chunks c JOIN batch_jobs j ON j.id = c.job_id"
                " WHERE (c.job_id, c.chunk_no) IN (SELECT * FROM unnest(%s::bigint[], %s::int[]))"
                " AND c.done_at IS NULL AND j.status = 'running'",
                ([job for job, _ in chunks], [no for _, no in chunks])).fetchone()[0]
        return pending == 0

    def _job_ids(self) -> list[str]:
        with self._db() as conn:
            return [row[0] for row in conn.execute("SELECT id FROM batch_jobs")]

    def _started(self, job_ids: set[str]) -> bool:
        with self._db() as conn:
            queued = conn.execute("SELECT count(*) FROM batch_jobs WHERE id = ANY(%s)"
                                  " AND status = 'queued'", (list(job_ids),)).fetchone()[0]
        return queued == 0

    def _web_serving(self) -> bool:
        try:
            return requests.get(f"{self.cluster.api_url}/readyz", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    def _record(self, fault: str, started: float, recovered) -> None:
        wait_until(recovered, timeout=LIMIT, interval=0.2, what=f"recovery from: {fault}")
        seconds = time.monotonic() - started
        self.recoveries.append(Recovery(fault, seconds))
        log.info("fault: %s; recovered in %.1f s", fault, seconds)

    # -- the end ----------------------------------------------------------------------

    def finish(self, tenant_id: int, timeout: float) -> Figures:
        """Wait for every job to end, then check every record against PostgreSQL."""
        def ended() -> bool:
            with self._db() as conn:
                statuses = dict(conn.execute("SELECT id, status FROM batch_jobs").fetchall())
            return all(statuses.get(job.job_id) in FINAL for job in self.jobs)
        try:
            wait_until(ended, timeout=timeout, interval=1, what="every job to end")
        except TimeoutError as error:
            self.problems.append(str(error))  # the stuck jobs are counted below
        with self._db() as conn:
            figures = self.workload.check(conn, tenant_id, self.jobs)
        figures.problems = self.problems + figures.problems
        return figures
