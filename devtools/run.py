"""Run the whole service locally (``make run``): servers, migrations, then the Procfile's processes.

PostgreSQL and Redis come from DATABASE_URL and REDIS_URL when they are set, else embedded servers
are started with their data under ``.run/``; a server that merely happens to run on its default
local port is never used silently. The Procfile's ``release`` line runs once, then ``web``,
``worker``, ``beat`` and ``flower`` run under honcho in the foreground. Ctrl-C stops those
processes first and the embedded servers last. The API and Flower listen on ``HOST``, 127.0.0.1
unless told otherwise, with the safeguards of ``devtools.exposure``.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

from app.config import Address, Config, ConfigError, listen_address
from devtools.exposure import (
    DEFAULT_HOST,
    DEMO_API_KEY,
    DEMO_API_KEYS,
    DEMO_OPERATOR_TOKEN,
    DemoCredentialsExposed,
    delete_demo_pair,
    local_url,
    refuse_demo_credentials_off_loopback,
    served,
)
from devtools.servers import ServerError, provide_servers
from devtools.service import answers

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("web", "worker", "beat", "flower")
# Webhooks may reach a receiver on this machine (loopback), and nothing else non-public.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"
API_READY_TIMEOUT = 60  # seconds to wait for /healthz before printing the banner anyway

# The two-customer example of Gameball's Batch API tutorial.
EXAMPLE_CUSTOMERS = {
    "body": [
        {
            "customerId": "12345",
            "email": "john.doe@example.com",
            "name": "John Doe",
            "gender": "M",
            "dateOfBirth": "1990-01-01",
            "joinDate": "2022-01-01",
            "tags": ["vip", "newsletter_subscriber"],
            "custom": {"favorite_color": "blue", "loyalty_points": 1500},
        },
        {
            "customerId": "67890",
            "email": "jane.smith@example.com",
            "name": "Jane Smith",
            "gender": "F",
            "dateOfBirth": "1985-05-15",
            "joinDate": "2023-03-10",
            "tags": ["premium_member"],
            "custom": {"favorite_color": "green", "loyalty_points": 2000},
        },
    ]
}

log = logging.getLogger("devtools.run")


def main() -> int:
    """Run the service until Ctrl-C; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="devtools | %(message)s")
    # A closed terminal (SIGHUP) or a plain `kill` must clean up like Ctrl-C does. Re-raising
    # SIGHUP as SIGTERM reaches whichever SIGTERM handler is current: ours below until honcho
    # runs, then honcho's, which stops its processes before returning.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, lambda *_: signal.raise_signal(signal.SIGTERM))
    procfile = parse_procfile((ROOT / "Procfile").read_text()).processes
    try:
        host = listen_address(os.environ, default=DEFAULT_HOST)
        env = development_environment(os.environ, host)
        refuse_demo_credentials_off_loopback(host, env)
        with provide_servers(ROOT / ".run", try_local_defaults=False) as servers:
            env.update(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
            Config(env)  # every setting checked once, before any process starts
            _prepare_metrics_directory(env)
            log.info("running the release step: %s", procfile["release"])
            status = run_release(procfile["release"], env)
            if status != 0:
                log.error("the release step failed (exit status %s)", status)
                return status
            if not host.is_loopback and delete_demo_pair(env["DATABASE_URL"]):
                log.warning("deleted the demo key pair %s, which an earlier run stored: its "
                            "keys are published, and this run serves other machines",
                            DEMO_API_KEY)
            return run_processes(procfile, env, host)
    except (ServerError, ConfigError, DemoCredentialsExposed) as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        return 130


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so the servers' context exits cleanly."""
    raise KeyboardInterrupt


def development_environment(base: Mapping[str, str], host: Address) -> dict[str, str]:
    """Return the environment the Procfile's processes run with, servers aside."""
    env = dict(base)
    # The API (gunicorn.conf.py reads HOST) and Flower (its own FLOWER_ADDRESS) alike.
    env.update(HOST=str(host), FLOWER_ADDRESS=str(host))
    env.setdefault("PORT", "8000")
    env.setdefault("FLOWER_PORT", "5555")
    # A local run is for development: webhooks to a receiver on this machine are allowed.
    env.setdefault("WEBHOOK_ALLOW_NETWORKS", LOOPBACK_NETWORKS)
    if not env.get("BATCH_API_KEYS"):
        env["BATCH_API_KEYS"] = DEMO_API_KEYS
        log.info("BATCH_API_KEYS is unset: using the development pair %s", DEMO_API_KEYS)
    if not env.get("OPERATOR_TOKEN"):
        env["OPERATOR_TOKEN"] = DEMO_OPERATOR_TOKEN
        log.info("OPERATOR_TOKEN is unset: the dashboard takes %s", DEMO_OPERATOR_TOKEN)
    # The Procfile's commands expect an activated virtualenv: activate ours.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # Log lines should reach honcho as they are written, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _prepare_metrics_directory(env: dict[str, str]) -> None:
    """Give web and worker one empty metrics directory, unless the environment names one."""
    # Shared, so that /metrics has the workers' counters; emptied, as the processes that
    # wrote it are gone. Only once this run holds .run/: another run's must not be touched.
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics = ROOT / ".run" / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)


def run_release(command: str, env: dict[str, str]) -> int:
    """Run the Procfile's release command to its end; return its exit status."""
    # In a process group of its own, like honcho's processes: a signal sent to us alone must
    # still stop the command itself, not just the shell around it, before its servers go.
    release = subprocess.Popen(
        command, shell=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        return release.wait()
    finally:
        if release.poll() is None:
            os.killpg(release.pid, signal.SIGTERM)
            release.wait()


def run_processes(procfile: dict[str, str], env: dict[str, str], host: Address) -> int:
    """Run the long-lived Procfile processes under honcho until one stops or Ctrl-C."""
    manager = Manager(Printer(_BestEffortOutput(sys.stdout)))
    for name in PROCESSES:
        manager.add_process(name, procfile[name], env=env, cwd=str(ROOT))
    threading.Thread(target=_announce_when_ready, args=(env, host), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


def _announce_when_ready(env: dict[str, str], host: Address) -> None:
    """Print the banner once the API answers, below the processes' start-up logs."""
    api = local_url(host, env["PORT"])
    deadline = time.monotonic() + API_READY_TIMEOUT
    ready = False
    while not ready and time.monotonic() < deadline:
        time.sleep(0.5)
        ready = answers(f"{api}/healthz")
    if not ready:
        log.warning("the API has not answered %s/healthz yet: see its log above", api)
    # Straight to stdout, not through honcho's printer: its per-line prefixes would break the
    # multi-line commands for pasting. One write, so other processes' lines hardly split it.
    text = banner(api, local_url(host, env["FLOWER_PORT"]), served(host), env["BATCH_API_KEYS"],
                  env["OPERATOR_TOKEN"])
    output = _BestEffortOutput(sys.stdout)
    output.write(text)
    output.flush()


class _BestEffortOutput:
    """A text stream that drops what it cannot write instead of raising."""

    # Ctrl-C on `make run | tee log` kills tee first, and a closed terminal fails every write.
    # Honcho prints while it shuts its processes down: an exception there would abandon them.
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        """Write text if the stream still takes it."""
        try:
            self._stream.write(text)
        except OSError:
            pass

    def flush(self) -> None:
        """Flush if the stream still takes it."""
        try:
            self._stream.flush()
        except OSError:
            pass

    def isatty(self) -> bool:
        """Tell whether the stream is a terminal (honcho colours its output then)."""
        return self._stream.isatty()


def banner(api: str, flower: str, listening: str, api_keys: str, operator_token: str) -> str:
    """Return where the service is, who can reach it, and ready-to-paste curl commands."""
    pair = api_keys.split(",")[0].split(":")
    api_key, secret_key = pair[1:] if len(pair) == 3 else ("YOUR-API-KEY", "YOUR-SECRET-KEY")
    batch = f"{api}/api/v4.0/integrations/batch"
    auth = f"-H {shlex.quote('APIKey: ' + api_key)} -H {shlex.quote('SecretKey: ' + secret_key)}"
    # One record per line: short enough to read, and still a single argument for the shell.
    records = ",\n  ".join(json.dumps(record) for record in EXAMPLE_CUSTOMERS["body"])
    body = shlex.quote(f'{{"body": [\n  {records}\n]}}')
    return f"""
API:    {api}   (health: {api}/healthz, readiness: {api}/readyz)
Flower: {flower}
Both {listening}.
Dashboard: {api}/dashboard   (operator token: {operator_token}); metrics: {api}/metrics

Create a batch job (it answers {{"jobId": ...}}):

curl -sS -X POST {batch}/customers \\
  -H 'Content-Type: application/json' {auth} \\
  -d {body}

Then its status (first set JOB_ID to the jobId it answered):

curl -sS "{batch}/${{JOB_ID:?set JOB_ID to the jobId the POST answered}}" {auth}

Ctrl-C stops everything.
"""


if __name__ == "__main__":
    sys.exit(main())
