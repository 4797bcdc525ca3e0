"""``make chaos``: private servers, the Procfile's processes, a large import under faults.

Starts its own embedded PostgreSQL and Redis (never the shared ones), applies the
Procfile's ``release`` line, starts ``web``, ``--workers`` ``worker`` processes and
``beat``, submits the workloads, fires the full fault plan, checks every record against
PostgreSQL and prints one line of figures. Exits 1 if anything was lost, applied twice or
left stuck, or any other check failed (the details go to stderr).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from app.store import tenants
from devtools.chaos.checks import Figures
from devtools.chaos.customers import CustomerImport
from devtools.chaos.ledger import LedgerRun
from devtools.chaos.runner import FULL_PLAN, Api, Chaos, run
from devtools.servers import ServerError, private_servers
from devtools.service import ROOT, process_environment, procfile_lines, running_service

log = logging.getLogger("devtools.chaos")

TENANT, API_KEY, SECRET_KEY = "chaos", "chaos-api-key", "chaos-secret-key"


def workloads(args: argparse.Namespace) -> list:
    """Return the workloads of a run: add a line here for a new one."""
    return [
        CustomerImport(args.jobs, args.records),
        LedgerRun(args.ledger_jobs, args.ledger_records),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the chaos run once; return 0 if every check held."""
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--records", type=int, default=1000, help="records per job")
    parser.add_argument("--ledger-jobs", type=int, default=24,
                        help="cashback, redemption and adjustment jobs over a few customers")
    parser.add_argument("--ledger-records", type=int, default=500, help="records per ledger job")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2 pool each)")
    parser.add_argument("--postgres-down", type=float, default=15, help="seconds")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run" / "chaos")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="chaos | %(message)s")
    started = time.monotonic()
    try:
        with private_servers(args.run_dir) as servers:
            database_url = fresh_database(servers.database_url, "chaos")
            # The production defaults, but for the keys: the run is a client like any other.
            env = process_environment(database_url, servers.redis_url,
                                      BATCH_API_KEYS=f"{TENANT}:{API_KEY}:{SECRET_KEY}")
            log_dir = args.run_dir / "logs" / time.strftime("%Y%m%d-%H%M%S")
            log_dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(["bash", "-c", procfile_lines()["release"]], cwd=ROOT, env=env,
                           check=True, capture_output=True)
            process_types = ("web", *["worker"] * args.workers, "beat")
            with running_service(env, log_dir, process_types, workers=args.workers) as service:
                with psycopg.connect(database_url) as conn:
                    tenant_id = tenants.ensure_tenant(conn, TENANT)
                chaos = Chaos(service, servers, database_url,
                              Api(service.base_url, API_KEY, SECRET_KEY),
                              postgres_down_seconds=args.postgres_down)
                figures = run(chaos, workloads(args), FULL_PLAN, tenant_id,
                              timeout=args.timeout)
    except ServerError as error:
        log.error("%s", error)
        return 2
    print(summary(figures, chaos.faults, time.monotonic() - started), flush=True)
    for problem in figures.problems:
        print(f"  {problem}", file=sys.stderr)
    if not figures.ok:
        print(f"  service logs: {log_dir}", file=sys.stderr)
    return 0 if figures.ok else 1


def summary(figures: Figures, faults: int, seconds: float) -> str:
    """Return the run's one line of figures."""
    return (f"chaos: jobs={figures.jobs} records={figures.records} faults={faults} "
            f"lost={figures.lost} applied_twice={figures.applied_twice} stuck={figures.stuck} "
            f"seconds={seconds:.0f}")


def fresh_database(server_url: str, name: str) -> str:
    """Create database ``name`` afresh on the server (the release step migrates it)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


if __name__ == "__main__":
    sys.exit(main())
