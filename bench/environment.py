"""Where the benchmark runs: a database and a Redis server of its own, and the machine's facts.

The database is created fresh on the configured (or local, or embedded) PostgreSQL server
and dropped at the end; Redis is a private ``redis-server`` on a free port, so the
benchmark never touches the shared server's data, nor another run's.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil
import psycopg
import redis

from devtools.servers import embedded_redis, provide_servers
from tests.support.databases import fresh_database

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Environment:
    """The benchmark's own database and Redis."""

    database_url: str
    redis_url: str


@contextmanager
def private_environment(run_dir: Path = ROOT / ".run" / "bench") -> Iterator[Environment]:
    """Yield a fresh migrated database and a private Redis server; remove both on exit."""
    with ExitStack() as stack:
        servers = stack.enter_context(provide_servers(run_dir, try_local_defaults=True))
        database_url = stack.enter_context(fresh_database(servers.database_url))
        redis_url = stack.enter_context(embedded_redis(run_dir / "private-redis"))
        yield Environment(database_url, redis_url)


def settle(database_url: str) -> None:
    """Start a phase from a clean database: vacuumed, analysed and checkpointed.

    Otherwise a phase pays for the one before it: autovacuum cleaning the previous phase's
    dead rows is counted among the database's backends, and a checkpoint of its writes
    takes the cores from under the phase being measured.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass  # a role without pg_checkpoint: the vacuum alone must do


def machine_facts(environment: Environment) -> dict:
    """Return what the figures depend on: CPU, memory, server and library versions."""
    with psycopg.connect(environment.database_url) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    client = redis.Redis.from_url(environment.redis_url)
    with client:
        redis_version = client.info("server")["redis_version"]
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "redis": redis_version,
        "commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
