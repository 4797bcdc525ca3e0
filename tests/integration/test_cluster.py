"""Faults across a network: a cluster of hosts (network namespaces) on each broker.

A data host (PostgreSQL, Redis, RabbitMQ), a web host (web and beat) and three worker hosts,
every process inside its host, reaching the others by address (``devtools.cluster``). Links
are cut like pulled cables: packets vanish, nothing is refused. Settings are tuned to seconds
(``SETTINGS``); docs/cluster.md gives the production ones and what ``make cluster CHAOS=1``
measures with them. Timeouts here only guard against a hang: each test asserts the outcome
(every record applied exactly once, nothing lost, doubled or stuck).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests

from devtools.cluster import network, rabbitmq
from devtools.cluster.harness import API_KEY, BROKERS, SECRET_KEY, Cluster, running_cluster
from tests.support import parked
from tests.support.client import ApiClient
from tests.support.factories import customers
from tests.support.parked import stored_once
from tests.support.service import wait_until

pytestmark = pytest.mark.cluster

# Seconds, not the production defaults: a silent PostgreSQL peer is dropped after 6 s, a lost
# chunk swept after 4 s, a broker connection dead after two 4 s heartbeats, a host lost 6 s
# after its last heartbeat.
SETTINGS = {"DB_DEAD_PEER_SECONDS": "6", "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": "10000",
            "DB_POOL_TIMEOUT_SECONDS": "3", "STALLED_AFTER_SECONDS": "4",
            "SWEEP_INTERVAL_SECONDS": "1", "BROKER_HEARTBEAT_SECONDS": "4",
            "BROKER_TIMEOUT_SECONDS": "3", "WORKER_HEARTBEAT_SECONDS": "2",
            "WORKER_LOST_AFTER_SECONDS": "6", "CHUNK_SIZE": "100", "CHUNK_RETRY_BACKOFF_MAX": "2",
            "WORKER_CONCURRENCY": "1", "WEB_CONCURRENCY": "1"}
RECOVERY = 120  # seconds: a hang guard, not a target (the target is measured by make cluster)


@pytest.fixture(scope="module", params=BROKERS)
def cluster(request, tmp_path_factory):
    reason = network.unavailable_reason()
    if reason is None and request.param == "rabbitmq":
        reason = rabbitmq.unavailable_reason()
    if reason:
        pytest.skip(f"no cluster on this machine: {reason}")
    # Outside pytest's temporary root, which is closed to the PostgreSQL server's own user.
    run_dir = Path(tempfile.mkdtemp(prefix=f"batchq-cluster-{request.param}-"))
    try:
        with running_cluster(run_dir, broker=request.param, settings=SETTINGS,
                             log_dir=tmp_path_factory.mktemp(f"cluster-{request.param}")
                             ) as running:
            yield running
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def db(cluster):
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def api(cluster, db) -> ApiClient:
    tenant_id = db.execute("SELECT id FROM tenants WHERE name = 'cluster'").fetchone()[0]
    return ApiClient(cluster.api_url, API_KEY, SECRET_KEY, tenant_id)


@contextmanager
def parked_chunk(cluster: Cluster, api: ApiClient, db):
    """Submit a job of three chunks whose second waits on a row lock inside its transaction;
    yield (job id, records, the worker host applying it, release)."""
    with parked.parked_chunk(cluster.database_url, api, db, index=150, count=300,
                             timeout=RECOVERY) as chunk:
        host = next(name for name, h in cluster.network.hosts.items()
                    if "db" in h.networks and h.address("db") == chunk.client_address)
        yield chunk.job_id, chunk.records, host, chunk.release


def chunk(db, job_id: str, chunk_no: int) -> tuple:
    """Return (attempts, done_at, finished_count) of a chunk."""
    return db.execute("SELECT attempts, done_at, finished_count FROM batch_chunks"
                      " WHERE job_id = %s AND chunk_no = %s", (job_id, chunk_no)).fetchone()


def completed_exactly_once(api: ApiClient, db, job_id: str, records: list[dict]) -> None:
    """The job completed with every record applied, each stored once (the blocker updated)."""
    done = api.wait(job_id, timeout=RECOVERY)
    assert (done["status"], done["finishedCount"], done["errorCount"]) == \
        ("completed", len(records), 0)
    assert stored_once(db, api.tenant_id, records) == (len(records), 1)


def back_and_serving(cluster: Cluster, api: ApiClient, host: str) -> None:
    """Wait until ``host`` beats again and a fresh job completes (its worker consumes too)."""
    cluster.wait_for_hosts(alive={host}, timeout=RECOVERY)
    wait_until(lambda: len(cluster.readyz()["hosts"]) >= 3 and cluster.readyz()["workers"] >= 3,
               timeout=RECOVERY, interval=0.5, what="every worker to answer a ping again")
    later = customers(600)
    completed = api.wait(api.submit(later), timeout=RECOVERY)
    assert completed["status"] == "completed"


def test_a_worker_host_cut_off_mid_chunk_has_its_chunk_applied_once_by_another(cluster, api,
                                                                              db):
    with parked_chunk(cluster, api, db) as (job_id, records, host, release):
        cluster.network.cut(cluster.host(host))  # every link: PostgreSQL and the broker
        release()  # its statement goes on in the server; the answer finds nobody
        try:
            completed_exactly_once(api, db, job_id, records)
            attempts, done_at, finished = chunk(db, job_id, 1)
            assert attempts >= 2 and finished == 100  # applied by another delivery
            # The server dropped the lost session: nothing of the cut host holds a lock.
            assert db.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                              " USING (pid) WHERE host(a.client_addr) = %s",
                              (cluster.host(host).address("db"),)).fetchone()[0] == 0
        finally:
            cluster.network.mend(cluster.host(host))
    back_and_serving(cluster, api, host)
    # The old worker's late work, now that it is back, changed nothing.
    assert chunk(db, job_id, 1) == (attempts, done_at, finished)
    assert stored_once(db, api.tenant_id, records) == (300, 1)
    assert api.job(job_id)["finishedCount"] == 300


def test_a_worker_host_losing_only_the_broker_doubles_nothing(cluster, api, db):
    with parked_chunk(cluster, api, db) as (job_id, records, host, release):
        cluster.network.cut(cluster.host(host), "mq")  # PostgreSQL still reachable
        release()  # the chunk commits; its acknowledgement cannot reach the broker
        try:
            completed_exactly_once(api, db, job_id, records)
        finally:
            cluster.network.mend(cluster.host(host), "mq")
    back_and_serving(cluster, api, host)
    # Redelivered (RabbitMQ at once, Redis after its visibility timeout) or not, applied once.
    assert chunk(db, job_id, 1)[2] == 100
    assert stored_once(db, api.tenant_id, records) == (300, 1)


def test_the_web_losing_the_broker_still_accepts_and_the_sweeper_runs_the_job(cluster, api,
                                                                             db):
    web = cluster.host("web")
    cluster.network.cut(web, "mq")  # the broker and Redis, and beat with them
    try:
        records = customers(250)
        response = api.request("POST", "/batch/customers", json={"body": records},
                               timeout=RECOVERY)
        assert response.status_code == 200, response.text
        job_id = response.json()["jobId"]
        # Committed before the answer, and not sent: the job waits for the sweeper.
        assert db.execute("SELECT status, swept_at FROM batch_jobs WHERE id = %s",
                          (job_id,)).fetchone() == ("queued", None)
    finally:
        cluster.network.mend(web, "mq")
    web_log = "".join(path.read_text() for path in cluster.services["web"].log_dir.glob("web-*"))
    assert f"job {job_id} committed but not enqueued (the sweeper will)" in web_log
    # Sent by the sweeper once beat reaches the broker again (or, on Redis, by the publish
    # the kernel was still retransmitting when the link came back): applied once either way.
    done = api.wait(job_id, timeout=RECOVERY)
    assert (done["status"], done["finishedCount"]) == ("completed", 250)
    assert stored_once(db, api.tenant_id, records) == (250, 0)


# The broker plays no part: once, on the Redis cluster.
@pytest.mark.parametrize("cluster", ["redis"], indirect=True)
def test_the_web_losing_postgresql_answers_503_and_stores_nothing(cluster, api, db):
    before = db.execute("SELECT count(*) FROM batch_jobs").fetchone()[0]
    web = cluster.host("web")
    cluster.network.cut(web, "db")
    try:
        # Each request waits at most DB_DEAD_PEER_SECONDS on a pooled connection gone
        # silent, or DB_POOL_TIMEOUT_SECONDS for a new one; the timeout only guards a hang.
        for _ in range(3):
            refused = api.request("POST", "/batch/customers", json={"body": customers(5)},
                                  timeout=RECOVERY)
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == 5003 and "Retry-After" in refused.headers
    finally:
        cluster.network.mend(web, "db")
    streak = []

    def serving() -> bool:
        ok = requests.get(f"{cluster.api_url}/readyz", timeout=30).status_code == 200
        streak.append(ok)
        return streak[-5:] == [True] * 5
    wait_until(serving, timeout=RECOVERY, interval=0.2, what="the web to reach PostgreSQL")
    assert db.execute("SELECT count(*) FROM batch_jobs").fetchone()[0] == before


def test_a_worker_host_killed_outright_and_a_new_host_joins(cluster, api, db):
    with parked_chunk(cluster, api, db) as (job_id, records, host, release):
        cluster.kill_host(host)  # every process of it, at once
        release()
        joined = cluster.add_worker_host()
        completed_exactly_once(api, db, job_id, records)
    assert chunk(db, job_id, 1)[0] >= 2
    # The new host and the two that stayed alive, the killed one lost. Waited for as a whole:
    # on a loaded machine one heartbeat may come late for a moment.
    alive = {name for name in cluster.worker_hosts() if name != host}
    states = cluster.wait_for_hosts(alive=alive, lost={host}, timeout=RECOVERY)
    assert joined in alive and sum(state == "alive" for state in states.values()) == 3
