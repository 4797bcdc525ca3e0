"""The service under load: the Procfile's web and worker processes, driven over HTTP.

Several client threads POST pre-encoded 1,000-record bodies as fast as the service answers;
meanwhile a sampler GETs the oldest unfinished job and a probe POSTs now and then, each
from a process of its own: in the loaders' process their clocks would also count the
waits for its GIL (5 ms a switch), which the service does not cause. The run lasts from
the first POST to the last job ``completed`` (read from PostgreSQL, so watching costs the
service nothing), and its time series comes from the chunks' commit times.
"""

from __future__ import annotations

import http.client
import itertools
import multiprocessing
import os
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson
import psycopg

from app.store import tenants
from bench import data
from bench.results import Run
from tests.support.client import PREFIX, ApiClient
from tests.support.service import LiveService, service_environment, wait_until

FINAL = ("completed", "failed", "stopped")
PROBE_INTERVAL = 0.25  # seconds between the probe's POSTs
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


@dataclass(frozen=True)
class Keys:
    """Where the service is and a tenant's key pair: what an observer process needs."""

    base_url: str
    api_key: str
    secret_key: str

    @classmethod
    def of(cls, client: ApiClient) -> Keys:
        return cls(client.base_url, client.api_key, client.secret_key)


class KeepAliveClient:
    """Requests over one persistent connection, with the standard library's bare client.

    A load generator's CPU is taken from the cores the service runs on: this one spends a
    quarter of what ``requests`` does per 260 KB POST (0.5 against 1.8 ms here).
    """

    def __init__(self, client: ApiClient | Keys) -> None:
        parts = urlsplit(client.base_url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self._headers = {**JSON, "APIKey": client.api_key, "SecretKey": client.secret_key}

    def job(self, job_id: str) -> dict:
        """GET a job's status body."""
        return orjson.loads(self._expect(200, "GET", f"/batch/{job_id}"))

    def submit(self, body: bytes) -> tuple[str, float]:
        """POST a customers batch; return its job id and the milliseconds the answer took."""
        began = time.perf_counter()
        answer = self._expect(200, "POST", "/batch/customers", body)
        elapsed = (time.perf_counter() - began) * 1000
        return orjson.loads(answer)["jobId"], elapsed

    def _expect(self, expected: int, method: str, path: str, body: bytes | None = None) -> bytes:
        """Send a request; return the answer's body, or raise if its status is not ``expected``."""
        status, answer = self.send(method, path, body)
        if status != expected:
            raise RuntimeError(f"{method} answered {status}: {answer[:300]!r}")
        return answer

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
    observers_cpu_seconds: float = 0.0  # the sampler's and the probe's, the bench's own load
    job_ids: list[int] = field(default_factory=list)


def drive(client: ApiClient, batches: list[list[dict]], *, clients: int, name: str,
          database_url: str, observed: bool) -> tuple[Run, Load]:
    """POST ``batches`` from ``clients`` threads; return the run once every job completed.

    ``observed``: whether the latency observers (the GET sampler, the POST probe) watch the
    run; a run whose latencies nobody reads goes without them and the load they add.
    """
    bodies = [orjson.dumps({"body": batch}) for batch in batches]
    load = Load(job_ids=[0] * len(bodies))
    next_body = itertools.count()
    lock = threading.Lock()
    keys = Keys.of(client)
    sampler = Observer(_sample_running, keys) if observed else Unobserved()
    prober = Observer(_probe_posts, keys, name) if observed else Unobserved()

    def post_all() -> None:
        own = KeepAliveClient(client)
        while (number := next(next_body)) < len(bodies):
            job_id, elapsed = own.submit(bodies[number])
            sampler.feed(job_id)
            with lock:
                load.post_ms.append(elapsed)
                load.job_ids[number] = job_id
        own.close()

    with sampler, prober:  # both ready before the first POST
        started = time.time()
        posters = [threading.Thread(target=post_all, name=f"client-{n}") for n in range(clients)]
        for thread in posters:
            thread.start()
        for thread in posters:
            thread.join()
        if not all(load.job_ids):
            raise RuntimeError("a client failed; see its traceback above")
        finished = wait_completed(database_url, load.job_ids)
        load.get_running_ms, sampling_cpu = sampler.finish()
        load.post_probe_ms, probing_cpu = prober.finish()
        load.observers_cpu_seconds = sampling_cpu + probing_cpu
    records = sum(len(batch) for batch in batches)
    run = Run(name=name, records=records, seconds=finished["last_finished"] - started,
              started=started, timeline=timeline(database_url, load.job_ids),
              extra={"jobs": len(bodies), "clients": clients, "failed_records": finished["errors"]})
    return run, load


class Observer:
    """A client measuring latencies from a process of its own, while the loaders run.

    ``watch(keys, *args, ready=, stop=, jobs=)`` runs in that process: it sets ``ready``
    once it can send, takes the job ids the loaders ``feed`` from ``jobs``, and returns
    its latencies in milliseconds once ``stop`` is set.
    """

    def __init__(self, watch: Callable[..., list[float]], *args) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the loaders have threads
        self._ready, self._stop = context.Event(), context.Event()
        self._jobs, self._results = context.Queue(), context.Queue()
        self._process = context.Process(
            target=_observe, args=(watch, args, self._ready, self._stop, self._jobs,
                                   self._results), daemon=True)

    def __enter__(self) -> Observer:
        self._process.start()
        if not self._ready.wait(60):
            raise RuntimeError("an observer process did not start")
        return self

    def feed(self, job_id: str) -> None:
        self._jobs.put(job_id)

    def finish(self) -> tuple[list[float], float]:
        """Stop watching; return the latencies and the CPU seconds watching took."""
        self._stop.set()
        return self._results.get(timeout=120)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()


class Unobserved:
    """In place of an ``Observer`` for a run nobody watches: no process, no samples."""

    def __enter__(self) -> Unobserved:
        return self

    def feed(self, job_id: str) -> None:
        pass

    def finish(self) -> tuple[list[float], float]:
        return [], 0.0

    def __exit__(self, *exc) -> None:
        pass


class _Ready:
    """The observer's ``ready``: also notes the CPU time it had used until then."""

    def __init__(self, event) -> None:
        self._event, self.cpu_seconds = event, 0.0

    def set(self) -> None:
        self.cpu_seconds = time.process_time()
        self._event.set()


def _observe(watch, args, ready, stop, jobs, results) -> None:
    """Run ``watch``; send back its latencies and the CPU it used while watching."""
    marker = _Ready(ready)
    samples = watch(*args, ready=marker, stop=stop, jobs=jobs)
    # Its start (spawning, imports) is not load on the service: count from ready on.
    results.put((samples, time.process_time() - marker.cpu_seconds))


def _sample_running(keys: Keys, *, ready, stop, jobs) -> list[float]:
    """GET the oldest unfinished job; return the latencies of answers that said running."""
    own = KeepAliveClient(keys)
    unfinished: deque[str] = deque()
    samples = []
    ready.set()
    while not stop.is_set():
        try:
            while True:
                unfinished.append(jobs.get_nowait())
        except queue.Empty:
            pass
        if not unfinished:
            time.sleep(0.01)
            continue
        began = time.perf_counter()
        body = own.job(unfinished[0])
        elapsed = (time.perf_counter() - began) * 1000
        if body["status"] == "running":
            samples.append(elapsed)
        elif body["status"] in FINAL:
            unfinished.popleft()
            continue
        time.sleep(0.1)  # ~10 GETs a second: a client watching, not hammering
    own.close()
    return samples


def _probe_posts(keys: Keys, name: str, *, ready, stop, jobs) -> list[float]:
    """POST 1,000 records every quarter second while the import runs; stop each such job.

    The latency a client sees when it submits while an import is under way, apart from the
    loaders' own POSTs, which come back to back and so measure how requests queue behind
    each other. Stopping the probe's job at once keeps it from adding work to the run.
    Its first POST waits a random part of the period: sent at once, it always arrived with
    the loaders' first four, and so sampled the run's first instant in every run.
    """
    own = KeepAliveClient(keys)
    body = orjson.dumps({"body": data.batches(f"probe-{name.replace(' ', '-')}", 1000, 1000)[0]})
    samples = []
    ready.set()
    stop.wait(random.uniform(0, PROBE_INTERVAL))
    while True:  # at least one, however short the run
        job_id, elapsed = own.submit(body)
        samples.append(elapsed)
        own.send("DELETE", f"/batch/{job_id}")
        if stop.wait(PROBE_INTERVAL):
            break
    own.close()
    return samples


def wait_completed(database_url: str, job_ids: list[int], timeout: float = 1800) -> dict:
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


def timeline(database_url: str, job_ids: list[int]) -> list[tuple[float, int]]:
    """Return (epoch, records) of every chunk of the jobs, in the order they were applied."""
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
