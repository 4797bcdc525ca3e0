"""The service under load: the Procfile's web and worker processes, driven over HTTP.

Several client threads POST pre-encoded 1,000-record bodies as fast as the service answers;
a sampler GETs the oldest unfinished job meanwhile. The run lasts from the first POST to the
last job ``completed`` (read from PostgreSQL, so watching costs the service nothing), and
its time series comes from the chunks' commit times.
"""

from __future__ import annotations

import http.client
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson
import psycopg

from app import tenants
from bench import data
from bench.results import Run
from tests.support.client import PREFIX, ApiClient
from tests.support.service import LiveService, service_environment, wait_until

FINAL = ("completed", "failed", "stopped")
JSON = {"Content-Type": "application/json"}


def new_tenant(database_url: str, base_url: str, name: str) -> ApiClient:
    """Create a tenant with a key pair; return a client acting for it."""
    with psycopg.connect(database_url) as conn:
        pair = tenants.create_tenant(conn, name)
        tenant_id = tenants.ensure_tenant(conn, name)
    return ApiClient(base_url, pair.api_key, pair.secret_key, tenant_id)


def start_service(database_url: str, redis_url: str, log_dir, **settings: str) -> LiveService:
    """Start gunicorn from the Procfile with the service's own defaults (not the tests')."""
    # The per-key rate limits would cap the run at a fixed rate: the bench measures capacity.
    settings = {"RATE_LIMIT_WRITES": "100000/second", "RATE_LIMIT_READS": "100000/second",
                **settings}
    env = service_environment(database_url, redis_url, **settings)
    if "CHUNK_SIZE" not in settings:  # not the tests' small chunks: the default, or yours
        env.pop("CHUNK_SIZE")
        if os.environ.get("CHUNK_SIZE"):
            env["CHUNK_SIZE"] = os.environ["CHUNK_SIZE"]
    service = LiveService(env=env, log_dir=log_dir)
    service.start("web")
    return service


@dataclass
class WorkerPool:
    """A Celery worker started from the Procfile, with ``processes`` pool processes."""

    service: LiveService
    processes: int
    pid: int = 0

    def __enter__(self) -> WorkerPool:
        process = self.service.start("worker", WORKER_CONCURRENCY=str(self.processes))
        self.pid = process.pid
        self.service.wait_ready(workers=1)
        self._process = process
        return self

    def __exit__(self, *exc) -> None:
        self.service.stop(self._process)


class KeepAliveClient:
    """Requests over one persistent connection, with the standard library's bare client.

    A load generator's CPU is taken from the cores the service runs on: this one spends a
    quarter of what ``requests`` does per 260 KB POST (0.5 against 1.8 ms here).
    """

    def __init__(self, client: ApiClient) -> None:
        parts = urlsplit(client.base_url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self._headers = {**JSON, "APIKey": client.api_key, "SecretKey": client.secret_key}

    def submit(self, body: bytes) -> tuple[str, float]:
        """POST a customers batch; return its job id and the milliseconds the answer took."""
        began = time.perf_counter()
        status, answer = self.send("POST", "/batch/customers", body)
        elapsed = (time.perf_counter() - began) * 1000
        if status != 202:
            raise RuntimeError(f"POST answered {status}: {answer[:300]!r}")
        return orjson.loads(answer)["jobId"], elapsed

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send a request to ``PREFIX + path``; return the status and the answer's body."""
        self._connection.request(method, PREFIX + path, body=body, headers=self._headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._connection.close()


@dataclass
class Load:
    """What the clients saw during one run."""

    post_ms: list[float] = field(default_factory=list)
    post_probe_ms: list[float] = field(default_factory=list)
    get_running_ms: list[float] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)


def drive(client: ApiClient, batches: list[list[dict]], *, clients: int, name: str,
          database_url: str) -> tuple[Run, Load]:
    """POST ``batches`` from ``clients`` threads; return the run once every job completed."""
    bodies = [orjson.dumps({"body": batch}) for batch in batches]
    load = Load(job_ids=[""] * len(bodies))
    next_body = itertools.count()
    lock = threading.Lock()
    posted = threading.Event()

    def post_all() -> None:
        own = KeepAliveClient(client)
        while (number := next(next_body)) < len(bodies):
            job_id, elapsed = own.submit(bodies[number])
            with lock:
                load.post_ms.append(elapsed)
                load.job_ids[number] = job_id
        own.close()

    started = time.time()
    posters = [threading.Thread(target=post_all, name=f"client-{n}") for n in range(clients)]
    sampler = threading.Thread(target=_sample_running, args=(client, load, posted), daemon=True)
    prober = threading.Thread(target=_probe_posts, args=(client, name, load, posted), daemon=True)
    for thread in posters:
        thread.start()
    sampler.start()
    prober.start()
    for thread in posters:
        thread.join()
    if not all(load.job_ids):
        raise RuntimeError("a client failed; see its traceback above")
    try:
        finished = _wait_completed(database_url, load.job_ids)
    finally:
        posted.set()
        sampler.join()
        prober.join()
    records = sum(len(batch) for batch in batches)
    run = Run(name=name, records=records, seconds=finished["last_finished"] - started,
              started=started, timeline=_timeline(database_url, load.job_ids),
              extra={"jobs": len(bodies), "clients": clients, "failed_records": finished["errors"]})
    return run, load


def _sample_running(client: ApiClient, load: Load, done: threading.Event) -> None:
    """GET the oldest unfinished job, keeping the latencies of answers that say running."""
    own = ApiClient(client.base_url, client.api_key, client.secret_key, client.tenant_id)
    position = 0
    while not done.is_set():
        job_id = load.job_ids[position] if position < len(load.job_ids) else ""
        if not job_id:
            time.sleep(0.01)
            continue
        began = time.perf_counter()
        body = own.job(job_id)
        elapsed = (time.perf_counter() - began) * 1000
        if body["status"] == "running":
            load.get_running_ms.append(elapsed)
        elif body["status"] in FINAL:
            position += 1
            continue
        time.sleep(0.1)  # ~10 GETs a second: a client watching, not hammering


def _probe_posts(client: ApiClient, name: str, load: Load, done: threading.Event) -> None:
    """POST 1,000 records every quarter second while the import runs; stop each such job.

    The latency a client sees when it submits while an import is under way, apart from the
    loaders' own POSTs, which come back to back and so measure how requests queue behind
    each other. Stopping the probe's job at once keeps it from adding work to the run.
    """
    own = KeepAliveClient(client)
    body = orjson.dumps({"body": data.batches(f"probe-{name.replace(' ', '-')}", 1000, 1000)[0]})
    while True:  # at least one, however short the run
        job_id, elapsed = own.submit(body)
        load.post_probe_ms.append(elapsed)
        own.send("DELETE", f"/batch/{job_id}")
        if done.wait(0.25):
            break
    own.close()


def _wait_completed(database_url: str, job_ids: list[str], timeout: float = 1800) -> dict:
    """Wait until every job ended; return the last finish time and the failed records."""
    query = ("SELECT count(*) FILTER (WHERE status IN ('completed', 'failed', 'stopped')),"
             " count(*) FILTER (WHERE status <> 'completed'), extract(epoch FROM max(finished_at)),"
             " coalesce(sum(error_count), 0) FROM batch_jobs WHERE id = ANY(%s)")
    with psycopg.connect(database_url, autocommit=True) as conn:
        def ended():
            done, not_completed, last, errors = conn.execute(query, (job_ids,)).fetchone()
            return (last, errors, not_completed) if done == len(job_ids) else None
        last, errors, not_completed = wait_until(ended, timeout=timeout, interval=0.1,
                                                 what="every job to end")
    if not_completed:
        raise RuntimeError(f"{not_completed} jobs ended without completing")
    return {"last_finished": float(last), "errors": int(errors)}


def _timeline(database_url: str, job_ids: list[str]) -> list[tuple[float, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT extract(epoch FROM done_at), record_count FROM batch_chunks"
                            " WHERE job_id = ANY(%s) AND done_at IS NOT NULL ORDER BY done_at",
                            (job_ids,)).fetchall()
    return [(float(moment), count) for moment, count in rows]


def get_latencies(client: ApiClient, job_id: str, requests: int) -> list[float]:
    """GET one job ``requests`` times in a row; return each answer's time in milliseconds."""
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        client.job(job_id)
        samples.append((time.perf_counter() - began) * 1000)
    return samples
