"""Run the whole benchmark: ``python -m bench [--records N ...]`` (see ``--help``)."""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from app.store import tenants
from bench import data, report
from bench.bulk import run_bulk_phase
from bench.cpu import CpuMeter
from bench.environment import machine_facts, private_environment, settle
from bench.limit import WAYS, run_key, upsert_directly
from bench.memory import MemorySampler, mib, worker_children_rss
from bench.naive import run_naive
from bench.results import Run, latency_summary
from bench.rounds import median_ratio, median_runs, paired_ratios
from bench.service import Load, WorkerPool, drive, get_latencies, new_tenant, start_service
from bench.settings import Settings, parse
from bench.warm_start import run_warm_start_phase

log = logging.getLogger("bench")


def main(argv: list[str] | None = None) -> int:
    """Run every phase and write the outputs; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    settings = parse(argv)
    settings.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with private_environment() as env, tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        machine = machine_facts(env)
        log.info("machine: %s", machine)
        figures = run_phases(settings, env, Path(logs))
    figures["machine"] = machine
    figures["settings"] = {k: v for k, v in vars(settings).items() if k != "out"}
    figures["bench_seconds"] = round(time.monotonic() - began, 1)
    figures["targets"] = report.judge(figures)
    runs = figures.pop("_runs")
    bulk_runs = figures.pop("_bulk_runs")
    report.write_json(figures, settings.out / "bench.json")
    report.write_chart(runs, machine, settings.out / "throughput.png",
                       figures["memory"].get("worker_rss_series"))
    if bulk_runs:
        report.write_bulk_chart(bulk_runs, figures["bulk"], machine, settings.out / "bulk.png")
    print(report.table(figures))
    print(f"\nwritten: {settings.out / 'bench.json'}, {settings.out / 'throughput.png'}"
          f"{', ' + str(settings.out / 'bulk.png') if bulk_runs else ''} "
          f"({figures['bench_seconds']} s)")
    return 0


def run_phases(settings: Settings, env, logs: Path) -> dict:
    """Run the limit, the service, scale, memory, the bulk phase and the naive peer; return
    the figures."""
    rounds: list[dict[str, Run]] = [{} for _ in range(settings.rounds)]
    latency: dict[str, list[float]] = {}
    memory: dict = {}
    # Started first: the rounds alternate the limit with the service, which idles meanwhile.
    service = start_service(env.database_url, env.redis_url, logs)
    try:
        if settings.records:
            latency, memory = _limit_and_service(settings, env, service, rounds)
        if settings.scale_records:
            # The same customers every round, each run under a tenant of its own.
            batches = data.batches("s", settings.scale_records, settings.batch)
            for number, runs in enumerate(rounds):
                runs.update(_scale(settings, env, service, batches, number))
        if settings.memory_records:
            memory.update(_memory_growth(settings, env, service))
        bulk, bulk_runs = {}, []
        if settings.bulk_records:
            with tempfile.TemporaryDirectory(prefix="bench-bulk-") as files:
                bulk, bulk_runs = run_bulk_phase(env, service, settings.workers,
                                                 settings.bulk_records,
                                                 settings.bulk_upload_mib, Path(files))
    finally:
        service.stop_all()
    warm_start = {}
    if settings.warm_start_rounds:
        warm_start = run_warm_start_phase(env, logs, rounds=settings.warm_start_rounds,
                                          clients=settings.clients, batch=settings.batch)
    runs = median_runs(rounds)
    if settings.naive_records:
        log.info("the naive peer: %d customers, one task each", settings.naive_records)
        sample = [record for batch in data.batches("n", settings.naive_records, settings.batch)
                  for record in batch]
        runs["naive"] = run_naive(env.database_url, env.redis_url,
                                  _bare_tenant(env.database_url, "naive"), sample,
                                  settings.workers, logs / "naive.log")
    paired = paired_ratios(rounds, report.ratios)
    return {"runs": {key: run.summary() for key, run in runs.items()},
            "ratios": {**report.ratios(runs),
                       **{key: median_ratio(values) for key, values in paired.items()}},
            "round_ratios": paired,
            "latency": {key: latency_summary(samples) for key, samples in latency.items()},
            "memory": memory,
            "bulk": bulk,
            "warm_start": warm_start,
            "_runs": list(runs.values()),
            "_bulk_runs": bulk_runs}


def _limit(env, inserts: list[list[dict]], updates: list[list[dict]], number: int
           ) -> dict[str, Run]:
    """Upsert the customers straight into PostgreSQL, each way: inserts, then updates."""
    log.info("the limit, round %d: %d customers straight into PostgreSQL, %s", number + 1,
             sum(map(len, inserts)), " and ".join(WAYS))
    runs = {}
    meter = CpuMeter(env.database_url)
    with psycopg.connect(env.database_url) as conn:  # opened first: its backend is measured
        for way in WAYS:
            # A tenant per way and round, so that each one's inserts are inserts.
            tenant_id = _bare_tenant(env.database_url, f"limit-{way}-{number}")
            for kind, batches in (("inserts", inserts), ("updates", updates)):
                key = run_key(way, kind)
                settle(env.database_url)
                before = meter.snapshot()
                runs[key] = upsert_directly(conn, tenant_id, batches, f"limit {way} {kind}", way)
                runs[key].extra["cpu_ms_per_1000"] = meter.per_thousand(before, runs[key].records)
    return runs


def _limit_and_service(settings: Settings, env, service, rounds: list[dict[str, Run]]
                       ) -> tuple[dict, dict]:
    """Run each round's limit, its service runs, then those watched; return latencies, peak RSS.

    The service's throughput is measured unwatched: the latency observers' POSTs, stops and
    GETs are load the limit does not carry. The latencies come from the same import run
    again, watched, under a tenant of its own.
    """
    inserts = data.batches("c", settings.records, settings.batch)
    updates = data.batches("c", settings.records, settings.batch, version=1)
    kinds = (("service_inserts", inserts), ("service_updates", updates))
    latency: dict[str, list[float]] = {"post_under_load": [], "post_probe": [],
                                       "get_running": []}
    web_pid = service.processes["web"][0].pid
    with WorkerPool(service, settings.workers) as pool, \
            MemorySampler(lambda: {"web": [web_pid], "worker": [pool.pid]}) as sampler:
        meter = CpuMeter(env.database_url, lambda: {"web": web_pid, "worker": pool.pid})
        for number, runs in enumerate(rounds):
            runs.update(_limit(env, inserts, updates, number))
            # A tenant per run of the import, so that each one's inserts are inserts.
            client = new_tenant(env.database_url, service.base_url, f"service-{number}")
            for key, batches in kinds:
                runs[key], _ = _service_run(settings, env, meter, client, key, batches, number,
                                            watched=False)
            client = new_tenant(env.database_url, service.base_url, f"watched-{number}")
            for key, batches in kinds:
                _, load = _service_run(settings, env, meter, client, key, batches, number,
                                       watched=True)
                latency["post_under_load"] += load.post_ms
                latency["post_probe"] += load.post_probe_ms
                latency["get_running"] += load.get_running_ms
        latency["get_completed"] = get_latencies(client, load.job_ids[-1], settings.get_requests)
        sampler.sample()
    memory = {"web_peak_rss_mib": mib(sampler.peak_bytes.get("web")),
              "worker_peak_rss_mib": mib(sampler.peak_bytes.get("worker"))}
    return latency, memory


def _service_run(settings: Settings, env, meter: CpuMeter, client, key: str, batches,
                 number: int, *, watched: bool) -> tuple[Run, Load]:
    """One run of the import through the service, with the latency observers or without."""
    log.info("the service, round %d: %s%s, %d POSTs from %d clients", number + 1, key,
             ", watched" if watched else "", len(batches), settings.clients)
    return _measured_drive(settings, env, meter, client, batches, key.replace("_", " "),
                           observed=watched)


def _scale(settings: Settings, env, service, batches: list[list[dict]], number: int
           ) -> dict[str, Run]:
    """Insert ``batches`` as new customers with 1, then 2 worker processes."""
    runs = {}
    web_pid = service.processes["web"][0].pid
    for processes, key in ((1, "scale_1_worker"), (2, "scale_2_workers")):
        log.info("scale, round %d: %d worker process(es), %d customers", number + 1, processes,
                 settings.scale_records)
        with WorkerPool(service, processes) as pool:
            # A tenant per run, so that each run's inserts are inserts.
            client = new_tenant(env.database_url, service.base_url, f"{key}-{number}")
            meter = CpuMeter(env.database_url, lambda: {"web": web_pid, "worker": pool.pid})
            # Throughput only: no latency observers, whose samples nobody would read.
            runs[key], _ = _measured_drive(settings, env, meter, client, batches,
                                           f"{processes} worker process(es)", observed=False)
    return runs


def _measured_drive(settings: Settings, env, meter: CpuMeter, client, batches, name: str,
                    *, observed: bool) -> tuple[Run, Load]:
    """From a settled database, POST ``batches``; return the run, with its CPU, and its load."""
    settle(env.database_url)
    before = meter.snapshot()
    run, load = drive(client, batches, clients=settings.clients, name=name,
                      database_url=env.database_url, observed=observed)
    run.extra["cpu_ms_per_1000"] = meter.per_thousand(
        before, run.records, also={"bench": load.observers_cpu_seconds})
    return run, load


def _memory_growth(settings: Settings, env, service) -> dict:
    """Push ``memory_records`` through one worker process; return its RSS along the way."""
    rounds = 10
    per_round = max(settings.batch, settings.memory_records // rounds)
    # The same customers again and again: updates, which cost the worker the most.
    batches = data.batches("m", per_round, settings.batch)
    series = []
    with WorkerPool(service, 1) as pool:
        client = new_tenant(env.database_url, service.base_url, "memory")
        for number in range(rounds):
            log.info("memory: round %d of %d, %d records", number + 1, rounds, per_round)
            # Only the RSS is read: no latency observers (two processes a round).
            drive(client, batches, clients=settings.clients, name="memory",
                  database_url=env.database_url, observed=False)
            sizes = worker_children_rss(pool.pid)
            series.append({"records": per_round * (number + 1), "rss_mib": mib(max(sizes))})
    # The first round warms caches and imports; growth is what comes after it.
    return {"growth_records": per_round * (rounds - 1),
            "worker_rss_growth_mib": round(series[-1]["rss_mib"] - series[0]["rss_mib"], 1),
            "worker_rss_series": series}


def _bare_tenant(database_url: str, name: str) -> int:
    with psycopg.connect(database_url) as conn:
        return tenants.ensure_tenant(conn, f"bench-{name}")


if __name__ == "__main__":
    sys.exit(main())
