"""Faults the service survives: killed workers, a flushed Redis, PostgreSQL away, shutdowns.

These tests flush, stop and restart servers, so they run their own: embedded PostgreSQL
and Redis (``devtools.servers.private_servers``), with web, two workers and beat from the
Procfile, and a sweeper tuned to seconds. The shared servers are never touched.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from app.store import tenants
from devtools.chaos.customers import CustomerImport
from devtools.chaos.ledger import LedgerRun
from devtools.chaos.runner import Api, Chaos, Fault, run
from devtools.servers import PrivateServers, private_servers
from tests.support import parked
from tests.support.client import ApiClient
from tests.support.databases import fresh_database
from tests.support.factories import customer, customers
from tests.support.parked import stored_once
from tests.support.service import LiveService, free_port, service_environment, wait_until

pytestmark = pytest.mark.faults

# Seconds, not the production defaults: a stalled job is swept again within about 3 s.
SETTINGS = {"STALLED_AFTER_SECONDS": "2", "SWEEP_INTERVAL_SECONDS": "1",
            "CHUNK_RETRY_BACKOFF_MAX": "2", "DB_POOL_TIMEOUT_SECONDS": "2", "CHUNK_SIZE": "100"}


@dataclass
class Stack:
    """Private servers and the service running on them."""

    servers: PrivateServers
    service: LiveService
    database_url: str

    def replace_workers(self, count: int = 2) -> None:
        """Start workers until ``count`` run, and wait until they answer."""
        while len(self.service.processes.get("worker", [])) < count:
            self.service.start("worker")
        self.service.wait_ready(workers=count)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # Outside pytest's temp root, like tests/devtools/test_servers.py: embedded PostgreSQL
    # runs as its own user, and pytest closes its temp root to others at each session start.
    run_dir = Path(tempfile.mkdtemp(prefix="batchq-faults-"))
    try:
        with private_servers(run_dir) as servers, \
                fresh_database(servers.database_url) as database_url:
            service = LiveService(env=service_environment(database_url, servers.redis_url,
                                                          **SETTINGS),
                                  log_dir=tmp_path_factory.mktemp("fault-logs"))
            try:
                for process_type in ("web", "worker", "worker", "beat"):
                    service.start(process_type)
                service.wait_ready(workers=2)
                yield Stack(servers, service, database_url)
            finally:
                service.stop_all()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def fault_db(stack):
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def tenant(stack):
    """A fresh tenant on the private database: (id, key pair)."""
    with psycopg.connect(stack.database_url) as conn:
        name = f"faults-{os.urandom(4).hex()}"
        pair = tenants.create_tenant(conn, name)
        return tenants.ensure_tenant(conn, name), pair


@pytest.fixture
def api(stack, tenant) -> ApiClient:
    tenant_id, pair = tenant
    return ApiClient(stack.service.base_url, pair.api_key, pair.secret_key, tenant_id)


@contextmanager
def parked_chunk(stack: Stack, api: ApiClient, fault_db, index: int, count: int = 500):
    """Submit a job whose chunk holding ``index`` waits on a row lock; yield (job, records, pid).

    The pid is the worker pool process waiting inside that chunk's transaction. Leaving
    the context releases the lock.
    """
    with parked.parked_chunk(stack.database_url, api, fault_db, index=index,
                             count=count) as chunk:
        yield chunk.job_id, chunk.records, chunk.pid


def wait_until_serving_again(stack: Stack, answers: int = 10) -> None:
    """Wait until /readyz finds PostgreSQL ``answers`` times in a row.

    Each web process's pool reconnects on its own backoff schedule after a restart; until
    it has, that process rightly answers 503. Several answers in a row reach every web
    process, so the tests after this one meet a service that has recovered.
    """
    streak = 0

    def recovered() -> bool:
        nonlocal streak
        ready = requests.get(f"{stack.service.base_url}/readyz", timeout=5).status_code == 200
        streak = streak + 1 if ready else 0
        return streak >= answers

    wait_until(recovered, timeout=90, interval=0.1, what="the web to reach PostgreSQL again")


def worker_of(stack: Stack, pool_pid: int) -> subprocess.Popen:
    """Return the worker process whose pool ``pool_pid`` belongs to."""
    return next(w for w in stack.service.processes["worker"]
                if pool_pid in stack.service.pool_processes(w))


def chunk_attempts(fault_db, job_id: str) -> list[int]:
    return [row[0] for row in fault_db.execute(
        "SELECT attempts FROM batch_chunks WHERE job_id = %s ORDER BY chunk_no", (job_id,))]


def test_a_killed_worker_and_a_flushed_redis_lose_nothing(stack, tenant):
    """The chaos run's checks, reduced: one worker SIGKILLed, Redis flushed once.

    The points ledger runs alongside: no balance change lost or applied twice either.
    """
    tenant_id, pair = tenant
    chaos = Chaos(stack.service, stack.servers, stack.database_url,
                  Api(stack.service.base_url, pair.api_key, pair.secret_key),
                  rng=random.Random(3))
    plan = (Fault(0.15, Chaos.kill_worker), Fault(0.3, Chaos.stop_a_job),
            Fault(0.45, Chaos.flush_redis))
    workloads = [CustomerImport(jobs=8, records=400), LedgerRun(jobs=3, records=200, customers=4)]
    figures = run(chaos, workloads, plan, tenant_id, timeout=120)

    assert (figures.jobs, figures.records, chaos.faults) == (8 + 4, 3200 + 4 + 600, 2)
    assert (figures.lost, figures.applied_twice, figures.stuck) == (0, 0, 0)
    assert figures.problems == []
    assert sum(job.stop_answer is not None for job in chaos.jobs) == 1
    stack.replace_workers()


def test_a_pool_process_killed_mid_chunk_gets_the_chunk_again(stack, api, fault_db):
    with parked_chunk(stack, api, fault_db, index=250) as (job_id, records, pid):
        os.kill(pid, signal.SIGKILL)  # Celery gives the message back: reject_on_worker_lost
        wait_until(lambda: chunk_attempts(fault_db, job_id)[2] == 2, timeout=30,
                   what="the chunk to be delivered again")
    done = api.wait(job_id)
    assert (done["status"], done["finishedCount"], done["errorCount"]) == ("completed", 500, 0)
    assert stored_once(fault_db, api.tenant_id, records) == (500, 1)  # the blocker, updated
    assert chunk_attempts(fault_db, job_id)[2] == 2
    stack.replace_workers()


def test_sigterm_lets_the_chunk_in_flight_finish(stack, api, fault_db):
    with parked_chunk(stack, api, fault_db, index=150) as (job_id, records, pid):
        worker = worker_of(stack, pid)
        worker.send_signal(signal.SIGTERM)  # a deploy: only the main process is told
        stack.service.start("worker")
        time.sleep(0.5)
        assert worker.poll() is None, "the worker must wait for its chunk in flight"
    assert worker.wait(30) == 0
    stack.service.stop(worker)
    done = api.wait(job_id)
    assert (done["status"], done["finishedCount"]) == ("completed", 500)
    assert chunk_attempts(fault_db, job_id)[1] == 1  # finished, not redelivered
    assert stored_once(fault_db, api.tenant_id, records) == (500, 1)
    stack.replace_workers()


def test_a_post_while_the_broker_is_unreachable_is_accepted_and_swept(stack, api, fault_db):
    # A web process whose Redis is unreachable; PostgreSQL, the workers and beat are fine.
    cut_off = LiveService(env={**stack.service.env,
                               "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                          log_dir=stack.service.log_dir)
    cut_off.start("web")
    try:
        client = ApiClient(cut_off.base_url, api.api_key, api.secret_key, api.tenant_id)
        wait_until(lambda: _answers(client), timeout=30, what="the cut-off web to answer")
        records = customers(150)
        job_id = client.submit(records)
        assert client.job(job_id)["status"] in ("queued", "running", "completed")
    finally:
        cut_off.stop_all()
    done = api.wait(job_id, timeout=60)
    assert (done["status"], done["finishedCount"]) == ("completed", 150)
    assert stored_once(fault_db, api.tenant_id, records) == (150, 0)


def _answers(client: ApiClient) -> bool:
    try:
        return client.request("GET", "/batch/none", timeout=2).status_code == 404
    except OSError:
        return False


def test_postgres_away_answers_503_and_the_running_job_completes_after(stack, api, fault_db):
    before = fault_db.execute("SELECT count(*) FROM batch_jobs").fetchone()[0]
    with parked_chunk(stack, api, fault_db, index=250) as (job_id, records, _):
        stack.servers.postgres.stop()
        try:
            # Bounded by the pool timeout, not hung: a hang fails on the client's own timeout.
            refused = api.request("POST", "/batch/customers", json={"body": customers(10)},
                                  timeout=30)
            assert refused.status_code == 503
            assert refused.headers["Content-Type"] == "application/json"
            assert refused.json()["code"] == 5003 and "Retry-After" in refused.headers
        finally:
            stack.servers.postgres.start()
    wait_until_serving_again(stack)
    done = api.wait(job_id, timeout=90)
    assert (done["status"], done["finishedCount"], done["errorCount"]) == ("completed", 500, 0)
    with psycopg.connect(stack.database_url, autocommit=True) as db:  # the old one was cut
        assert stored_once(db, api.tenant_id, records) == (500, 1)
        # Two jobs were accepted (the blocker's and the parked one); the refused one left
        # nothing, and no job lacks its records.
        assert db.execute("SELECT count(*) FROM batch_jobs").fetchone()[0] == before + 2
        assert db.execute("SELECT count(*) FROM batch_jobs j WHERE NOT EXISTS (SELECT 1"
                          " FROM batch_job_records r WHERE r.job_id = j.id)").fetchone()[0] == 0


def test_a_job_stopped_while_every_worker_is_down_stays_stopped(stack, api, fault_db):
    for worker in list(stack.service.processes["worker"]):
        stack.service.stop(worker)
    records = customers(300)
    job_id = api.submit(records)  # its message waits in Redis for a worker
    stopped = api.request("DELETE", f"/batch/{job_id}").json()  # the revoke reaches nobody
    assert stopped["status"] == "stopped"

    stack.replace_workers()
    later = api.wait(api.submit(customers(5)))  # the queue drained past the stopped job
    assert later["status"] == "completed"
    time.sleep(float(SETTINGS["STALLED_AFTER_SECONDS"]) + 1)  # and a sweep had its chance
    assert api.job(job_id) == stopped
    assert stored_once(fault_db, api.tenant_id, records) == (0, 0)


def test_overlapping_jobs_on_the_same_customers_give_every_record_one_outcome(stack, api,
                                                                              fault_db):
    ids = [f"shared-{os.urandom(3).hex()}-{n}" for n in range(300)]
    rng = random.Random(7)
    versions = []
    for version in range(6):
        records = [customer(customer_id, name=f"version {version}") for customer_id in ids]
        rng.shuffle(records)  # each job locks the same rows, in its own order
        versions.append(records)
    job_ids = [api.submit(records) for records in versions]
    for job_id in job_ids:
        done = api.wait(job_id)
        assert (done["status"], done["finishedCount"], done["errorCount"]) == \
            ("completed", 300, 0)
        assert len(done["response"]["successful"]) == 300
    names = dict(fault_db.execute("SELECT customer_id, profile->>'name' FROM customers"
                                  " WHERE tenant_id = %s", (api.tenant_id,)).fetchall())
    assert sorted(names) == sorted(ids)
    assert set(names.values()) <= {f"version {v}" for v in range(6)}

