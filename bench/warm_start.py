"""What ``WARM_START`` changes: the first requests of a new web process, and its slowest once warm.

With ``WARM_START=true`` (the default) a web process opens its connections as it starts, in
the background, and freezes its start-up objects out of the garbage collector's full passes
(``app/runtime/warmup.py``, ``app/runtime/gc_freeze.py``); with ``false``, its first requests
open what they need and every full collection walks those objects. The other phases measure
a process that has long been warm, where only the second part can show.

So this phase starts the web anew in each round, the setting on and off in turn (on, off,
then off, on, ...: neither always goes first). As soon as ``/healthz`` answers (it touches no
server, as a load balancer's check would not), the clients each POST ``FIRST_POSTS``
1,000-record jobs back to back: the first requests its threads serve, as after a deploy.
Then one client GETs one of those jobs ``STEADY_GETS`` times, the slowest of which are where
a full collection lands. No worker runs: the jobs wait in the queue, and nothing else loads
the machine.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import orjson
import psycopg

from app.store import tenants
from bench import data
from bench.results import latency_summary
from bench.service import KeepAliveClient, Keys, start_service
from devtools.service import answers
from tests.support.service import wait_until

log = logging.getLogger("bench")

SETTINGS = ("on", "off")
FIRST_POSTS = 3     # per client, from the moment the new process answers
STEADY_GETS = 1000  # of one job, once the process is warm


def run_warm_start_phase(env, logs: Path, *, rounds: int, clients: int, batch: int) -> dict:
    """Start the web ``rounds`` times with WARM_START on and with it off; return, by setting,
    the latencies of its first POSTs and of its GETs once warm."""
    with psycopg.connect(env.database_url) as conn:
        pair = tenants.create_tenant(conn, "warm-start")
    body = orjson.dumps({"body": data.batches("w", batch, batch)[0]})
    samples: dict[str, dict[str, list[float]]] = {
        setting: {"first_post": [], "first_posts": [], "get_warm": []} for setting in SETTINGS}
    for number in range(rounds):
        for setting in SETTINGS if number % 2 == 0 else SETTINGS[::-1]:
            log.info("WARM_START %s, round %d: a new web process, %d clients", setting,
                     number + 1, clients)
            _one_start(env, logs, pair, body, clients, setting, samples[setting])
    return {setting: {name: latency_summary(values) for name, values in figures.items()}
            for setting, figures in samples.items()}


def _one_start(env, logs: Path, pair, body: bytes, clients: int, setting: str,
               samples: dict[str, list[float]]) -> None:
    """Start the web with WARM_START=``setting``, send its first requests, add their times."""
    service = start_service(env.database_url, env.redis_url, logs,
                            WARM_START="true" if setting == "on" else "false")
    try:
        wait_until(lambda: answers(f"{service.base_url}/healthz"), timeout=60,
                   what="the new web process to answer /healthz")
        keys = Keys(service.base_url, pair.api_key, pair.secret_key)
        first_posts = _first_posts(keys, body, clients)
        for times in first_posts.values():
            samples["first_post"].append(times[0])
            samples["first_posts"].extend(times)
        samples["get_warm"].extend(_gets(keys, next(iter(first_posts))))
    finally:
        service.stop_all()


def _first_posts(keys: Keys, body: bytes, clients: int) -> dict[int, list[float]]:
    """POST from ``clients`` threads at once, FIRST_POSTS each; return each client's times,
    keyed by its first job's id."""
    start = threading.Barrier(clients)
    results: list[tuple[int, list[float]]] = []
    failures: list[BaseException] = []

    def client() -> None:
        connection = KeepAliveClient(keys)
        try:
            start.wait()
            submitted = [connection.submit(body) for _ in range(FIRST_POSTS)]
            results.append((submitted[0][0], [elapsed for _, elapsed in submitted]))
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return dict(results)


def _gets(keys: Keys, job_id: int) -> list[float]:
    """GET the job STEADY_GETS times over one connection; return each answer's milliseconds."""
    connection = KeepAliveClient(keys)
    times = []
    try:
        for _ in range(STEADY_GETS):
            began = time.perf_counter()
            connection.job(str(job_id))
            times.append((time.perf_counter() - began) * 1000)
    finally:
        connection.close()
    return times
