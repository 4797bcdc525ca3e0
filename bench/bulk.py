"""The bulk phase: one NDJSON upload of ``bulk_records`` customers, beside the database's limit.

What it measures, in this order:

1. The limit for the same customers: COPY into a staging table + the service's upsert, one
   transaction per 1,000, inserts then updates (``bench.limit``).
2. The service, unwatched: the whole file POSTed as one streamed upload (read from disk as
   it is sent), from its first byte to the job's last record applied, inserts then updates
   of the same customers; the upload's own MB/s; a worker process's RSS over each job. The
   same file copied by ``psql``'s ``\\copy`` into a plain table gives the upload a yardstick.
3. The same import again under another tenant, watched: a probe process submits a 1,000-
   record JSON job of a third tenant every second and notes each one's completion time
   (from its POST to its ``finished_at``, read from PostgreSQL).
4. The web's RSS while it takes a ``bulk_upload_mib`` upload (the file repeated), which is
   stopped as soon as it is stored; and while it streams the million-entry ``/successful``
   file of step 2's job, with that download's entries per second.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import psycopg

from app.store import tenants
from bench import data
from bench.cpu import CpuMeter
from bench.environment import settle
from bench.limit import upsert_directly
from bench.memory import PeakSampler, tree_rss
from bench.results import Run, latency_summary
from bench.service import Keys, Observer, WorkerPool, new_tenant, timeline, wait_completed
from tests.support.client import PREFIX, ApiClient

log = logging.getLogger("bench")

PROBE_INTERVAL = 1.0  # seconds between the probe's 1,000-record jobs
NDJSON = "application/x-ndjson"
_SEND_BLOCK = 1 << 20


@dataclass(frozen=True)
class BulkFiles:
    """The NDJSON files the phase uploads: inserts, updates of the same customers, and the
    large one (the inserts repeated) for the web's memory."""

    inserts: Path
    updates: Path
    large: Path | None


def write_files(directory: Path, records: int, large_mib: int) -> BulkFiles:
    """Write the phase's files; the customers are ``bench.data``'s, prefix ``bulk``."""
    inserts, updates = directory / "bulk-inserts.ndjson", directory / "bulk-updates.ndjson"
    for path, version in ((inserts, 0), (updates, 1)):
        with path.open("wb") as file:
            for batch in _batches(records, version):
                file.write(b"".join(orjson.dumps(record) + b"\n" for record in batch))
    large = None
    if large_mib:
        large = directory / "bulk-large.ndjson"
        with large.open("wb") as out:
            while out.tell() < large_mib * 2**20:
                with inserts.open("rb") as source:
                    shutil.copyfileobj(source, out, _SEND_BLOCK)
    return BulkFiles(inserts, updates, large)


def _batches(records: int, version: int) -> Iterator[list[dict]]:
    """The phase's customers, 1,000 at a time, made as they are needed."""
    for start in range(0, records, 1000):
        yield [data.customer("bulk", n, version) for n in range(start, min(start + 1000,
                                                                               records))]


def run_bulk_phase(env, service, workers: int, records: int, large_mib: int,
                   directory: Path) -> tuple[dict, list[Run]]:
    """Run the phase; return its figures and its runs (for the chart)."""
    log.info("bulk: writing %d customers as NDJSON, twice%s", records,
             f", and a {large_mib} MiB file" if large_mib else "")
    files = write_files(directory, records, large_mib)
    size = files.inserts.stat().st_size
    figures: dict = {"records": records, "file_mib": round(size / 2**20, 1)}
    runs = _limit(env, records)
    web_pids = [process.pid for process in service.processes["web"]]
    with WorkerPool(service, workers) as pool:
        meter = CpuMeter(env.database_url, lambda: {"web": web_pids[0], "worker": pool.pid})
        client = new_tenant(env.database_url, service.base_url, "bulk-service")
        for kind, path in (("inserts", files.inserts), ("updates", files.updates)):
            run = _service_run(env, meter, client, path, records, kind, pool.pid)
            runs.append(run)
            figures[kind] = {**run.summary(),
                             "vs_limit": _ratio(run.per_second, runs[0 if kind == "inserts"
                                                                     else 1].per_second)}
        figures["psql_copy_mb_per_s"] = _psql_copy(env.database_url, files.inserts)
        figures["probe"] = _watched(env, service, files.inserts, records)
        figures["download"] = _download(client, figures["inserts"]["job"], web_pids)
        if files.large is not None:
            figures["large_upload"] = _large_upload(env, service, files.large, web_pids)
    figures["limit"] = {run.name: run.summary() for run in runs[:2]}
    return figures, runs


def _limit(env, records: int) -> list[Run]:
    """The database's COPY + upsert limit for the phase's customers: inserts, then updates."""
    log.info("bulk: the limit, %d customers by COPY + upsert", records)
    runs = []
    meter = CpuMeter(env.database_url)
    with psycopg.connect(env.database_url) as conn:
        tenant_id = _bare_tenant(conn, "bulk-limit")
        for kind, version in (("inserts", 0), ("updates", 1)):
            settle(env.database_url)
            before = meter.snapshot()
            run = upsert_directly(conn, tenant_id, _batches(records, version),
                                  f"bulk limit: COPY + upsert, {kind}", "copy")
            run.extra["cpu_ms_per_1000"] = meter.per_thousand(before, run.records)
            runs.append(run)
    return runs


def _service_run(env, meter: CpuMeter, client: ApiClient, path: Path, records: int,
                 kind: str, worker_pid: int) -> Run:
    """Upload ``path`` as one bulk job; return the run from its first byte to its end."""
    log.info("bulk: the service, %s: %d customers in one upload", kind, records)
    settle(env.database_url)
    before = meter.snapshot()
    with PeakSampler(lambda: _pool_pids(worker_pid)) as worker:
        started = time.time()
        job_id, upload_seconds = post_file(Keys.of(client), path)
        last = wait_completed(env.database_url, [job_id])["last_finished"]
        worker.sample()
    run = Run(name=f"service, one upload: {kind}", records=records, seconds=last - started,
              started=started, timeline=timeline(env.database_url, [job_id]))
    size = path.stat().st_size
    run.extra.update({
        "job": job_id, "upload_seconds": round(upload_seconds, 2),
        "upload_mb_per_s": round(size / 1e6 / upload_seconds, 1),
        "worker_rss_growth_mib": worker.growth_mib(),
        "cpu_ms_per_1000": meter.per_thousand(before, records)})
    return run


def post_file(keys: Keys, path: Path, operation: str = "customers") -> tuple[int, float]:
    """POST ``path`` as a streamed NDJSON upload; return the job id and the seconds it took."""
    url = urlsplit(keys.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=3600,
                                            blocksize=_SEND_BLOCK)
    began = time.perf_counter()
    with path.open("rb") as body:
        connection.request("POST", f"{PREFIX}/batch/{operation}", body=body, headers={
            "APIKey": keys.api_key, "SecretKey": keys.secret_key, "Content-Type": NDJSON,
            "Content-Length": str(path.stat().st_size)})
        response = connection.getresponse()
        answer = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"the upload answered {response.status}: {answer[:300]!r}")
    return orjson.loads(answer)["jobId"], elapsed


def _psql_copy(database_url: str, path: Path) -> float | None:
    """COPY the file into a plain one-column table with psql; return its MB/s."""
    if shutil.which("psql") is None:
        return None
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_plain_copy (line text)")
    # Each line is one value: no delimiter nor quote character JSON text could hold.
    command = ("\\copy bench_plain_copy FROM '" + str(path).replace("'", "''")
               + "' WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')")
    began = time.perf_counter()
    subprocess.run(["psql", database_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", command],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - began
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_plain_copy")
    return round(path.stat().st_size / 1e6 / elapsed, 1)


def _watched(env, service, path: Path, records: int) -> dict:
    """The import again, under a tenant of its own, while the probe submits a job a second."""
    log.info("bulk: the service again, watched: a 1,000-record job of another tenant a second")
    client = new_tenant(env.database_url, service.base_url, "bulk-watched")
    probe = new_tenant(env.database_url, service.base_url, "bulk-probe")
    with Observer(_probe_jobs, Keys.of(probe), env.database_url) as observer:
        job_id, _ = post_file(Keys.of(client), path)
        wait_completed(env.database_url, [job_id])
        completions, _ = observer.finish()
    return {"records": records, **latency_summary(completions)}


def _probe_jobs(keys: Keys, database_url: str, *, ready, stop, jobs) -> list[float]:
    """Every PROBE_INTERVAL, POST 1,000 records; return each job's completion in ms (from
    the POST to its finished_at), once all have ended."""
    client = ApiClient(keys.base_url, keys.api_key, keys.secret_key, 0)
    records = data.batches("bulk-probe", 1000, 1000)[0]
    sent: dict[int, float] = {}
    done: dict[int, float] = {}
    ready.set()
    with psycopg.connect(database_url, autocommit=True) as conn:
        next_post = time.time()
        while not stop.is_set() or len(done) < len(sent):
            if not stop.is_set() and time.time() >= next_post:
                posted = time.time()
                sent[client.submit(records)] = posted
                next_post = posted + PROBE_INTERVAL
            waiting = [job for job in sent if job not in done]
            if waiting:
                for job_id, finished in conn.execute(
                        "SELECT id, extract(epoch FROM finished_at) FROM batch_jobs WHERE"
                        " id = ANY(%s) AND finished_at IS NOT NULL", (waiting,)):
                    done[job_id] = (float(finished) - sent[job_id]) * 1000
            time.sleep(0.02)
    return list(done.values())


def _download(client: ApiClient, job_id: int, web_pids: list[int]) -> dict:
    """Stream the job's /successful as NDJSON; return entries/s and the web's RSS growth."""
    log.info("bulk: the results of job %s as one NDJSON file", job_id)
    url = urlsplit(client.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    entries = size = 0
    with PeakSampler(lambda: _tree_pids(web_pids)) as web:
        began = time.perf_counter()
        connection.request("GET", f"{PREFIX}/batch/{job_id}/successful", headers={
            "APIKey": client.api_key, "SecretKey": client.secret_key, "Accept": NDJSON})
        response = connection.getresponse()
        while block := response.read(_SEND_BLOCK):
            entries += block.count(b"\n")
            size += len(block)
        elapsed = time.perf_counter() - began
    connection.close()
    return {"entries": entries, "seconds": round(elapsed, 2),
            "entries_per_s": round(entries / elapsed), "mb_per_s": round(size / 1e6 / elapsed, 1),
            "web_rss_growth_mib": web.growth_mib()}


def _large_upload(env, service, path: Path, web_pids: list[int]) -> dict:
    """Upload the large file, the web's RSS sampled; stop its job once it is stored."""
    size = path.stat().st_size
    log.info("bulk: a %.0f MiB upload, for the web's memory", size / 2**20)
    client = new_tenant(env.database_url, service.base_url, "bulk-large")
    with PeakSampler(lambda: _tree_pids(web_pids)) as web:
        job_id, seconds = post_file(Keys.of(client), path)
    client.request("DELETE", f"/batch/{job_id}")
    return {"mib": round(size / 2**20), "seconds": round(seconds, 1),
            "mb_per_s": round(size / 1e6 / seconds, 1), "web_idle_mib": web.idle_mib(),
            "web_peak_mib": web.peak_mib(), "web_rss_growth_mib": web.growth_mib()}


def _tree_pids(roots: list[int]) -> list[int]:
    return [pid for root in roots for pid in tree_rss(root)]


def _pool_pids(worker_pid: int) -> list[int]:
    return [pid for pid in tree_rss(worker_pid) if pid != worker_pid]


def _bare_tenant(conn: psycopg.Connection, name: str) -> int:
    return tenants.ensure_tenant(conn, f"bench-{name}")


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None

