"""``make cluster``: the service on a data host, a web host and worker hosts (network
namespaces) on this machine; ``make cluster CHAOS=1`` deals it every network fault under a
continuous import and prints one line: faults, the longest recovery, lost, doubled, stuck.

Needs root (namespaces). The cluster runs with the production defaults but ``CHUNK_SIZE``
(smaller, so that a job spreads over several hosts); docs/cluster.md says how to reach it
and what each fault needed. Exits 1 if anything was lost, doubled or stuck, a fault took
longer than 60 s to recover from, or any other check failed (details on stderr).
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import threading
import time
from pathlib import Path

import psycopg

from devtools.chaos.customers import CustomerImport
from devtools.chaos.runner import Api
from devtools.cluster import network, rabbitmq
from devtools.cluster.chaos import ClusterChaos
from devtools.cluster.harness import API_KEY, BROKERS, SECRET_KEY, Cluster, running_cluster
from devtools.service import ROOT

log = logging.getLogger("devtools.cluster")

TARGET_SECONDS = 60  # the promise: a lost host's work is done by another within a minute


def main(argv: list[str] | None = None) -> int:
    """Run the cluster until interrupted, or the chaos run once; 0 if every check held."""
    parser = argparse.ArgumentParser(prog="make cluster", description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=BROKERS, default="redis")
    parser.add_argument("--chaos", action="store_true", help="deal the faults, print a line")
    parser.add_argument("--workers", type=int, default=3, help="worker hosts")
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000,
                        help="most jobs of the import (it stops after the last fault)")
    parser.add_argument("--records", type=int, default=1000, help="records per job")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run" / "cluster")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="cluster | %(message)s")
    # Stopped (SIGTERM) as when interrupted: every host, server and link is taken down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reason = network.unavailable_reason() or (
        rabbitmq.unavailable_reason() if args.broker == "rabbitmq" else None)
    if reason:
        print(f"make cluster: {reason}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with running_cluster(args.run_dir, broker=args.broker, workers=args.workers,
                         settings={"CHUNK_SIZE": str(args.chunk_size)}) as cluster:
        log.info("cluster up in %.0f s", time.monotonic() - started)
        if not args.chaos:
            return serve(cluster)
        return chaos(cluster, args, started)


def serve(cluster: Cluster) -> int:
    """Say how to reach the cluster; keep it up until Ctrl-C."""
    print(f"API        {cluster.api_url}/api/v4.0/integrations (APIKey {API_KEY}, "
          f"SecretKey {SECRET_KEY})\n"
          f"readyz     {cluster.api_url}/readyz\n"
          f"PostgreSQL {cluster.database_url}\n"
          f"Redis      {cluster.redis_url}\n"
          f"broker     {cluster.broker_url}\n"
          f"hosts      " + ", ".join(f"{name} ({host.netns})"
                                     for name, host in cluster.network.hosts.items()) + "\n"
          f"logs       {cluster.log_dir}\n"
          "A link down: ip link set <port> down (see docs/cluster.md). Ctrl-C stops it all.",
          flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    return 0


def chaos(cluster: Cluster, args: argparse.Namespace, started: float) -> int:
    """Import continuously, deal every fault, check every record; print the line."""
    with psycopg.connect(cluster.database_url) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants WHERE name = 'cluster'").fetchone()[0]
    run = ClusterChaos(cluster, Api(cluster.api_url, API_KEY, SECRET_KEY),
                       CustomerImport(args.jobs, args.records), rng=random.Random(args.seed))
    stop = threading.Event()
    importing = run.import_continuously(stop)
    time.sleep(10)  # the import under way on every host
    try:
        for fault in ClusterChaos.FAULTS:
            getattr(run, fault)()
            time.sleep(5)
    finally:
        stop.set()
        importing.join()
    figures = run.finish(tenant_id, timeout=600)
    longest = max(run.recoveries, key=lambda r: r.seconds)
    print(f"cluster: broker={cluster.broker} faults={len(run.recoveries)} "
          f"longest_recovery={longest.seconds:.1f}s ({longest.fault}) lost={figures.lost} "
          f"doubled={figures.applied_twice} stuck={figures.stuck} jobs={figures.jobs} "
          f"records={figures.records} slowest_503={run.slowest_503:.1f}s "
          f"host_lost_shown_after={run.lost_host_seen:.1f}s "
          f"seconds={time.monotonic() - started:.0f}", flush=True)
    for recovery in run.recoveries:
        print(f"  {recovery.fault}: recovered in {recovery.seconds:.1f} s", file=sys.stderr)
    for problem in figures.problems:
        print(f"  problem: {problem}", file=sys.stderr)
    slow = longest.seconds >= TARGET_SECONDS or run.lost_host_seen >= TARGET_SECONDS
    if slow:
        print(f"  problem: a recovery took {TARGET_SECONDS} s or more", file=sys.stderr)
    return 0 if figures.ok and not slow else 1


if __name__ == "__main__":
    sys.exit(main())
