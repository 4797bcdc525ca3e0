"""The service as it runs in production: the Procfile's own lines, as real processes.

Integration tests and the chaos run (``make chaos``) start ``web`` (gunicorn), ``worker``
and ``beat`` (Celery) exactly as the Procfile writes them, with their own DATABASE_URL and
REDIS_URL, and drive them over HTTP. Workers can be killed and started again, as in
production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devtools.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def procfile_lines(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """Return the Procfile's commands by process type."""
    lines = {}
    for raw in path.read_text().splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            name, command = raw.split(":", 1)
            lines[name.strip()] = command.strip()
    return lines


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return it, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def answers(url: str) -> bool:
    """Tell whether ``url`` answers 200 within a second (refused, silent or an error: no)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:  # URLError and HTTPError included
        return False


@dataclass
class LiveService:
    """Running web and worker processes of one test run.

    On this machine by default; ``prefix`` runs each process elsewhere (the cluster's hosts
    run theirs inside a network namespace), where its web answers at ``address``.
    """

    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    processes: dict[str, list[subprocess.Popen]] = field(default_factory=dict)
    address: str = "127.0.0.1"
    prefix: tuple[str, ...] = ()

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self, process_type: str, **extra_env: str) -> subprocess.Popen:
        """Start one process of ``process_type`` from its Procfile line."""
        return self.launch(process_type, procfile_lines()[process_type], **extra_env)

    def launch(self, name: str, command: str, **extra_env: str) -> subprocess.Popen:
        """Start ``command`` (a shell line, as a Procfile writes one) as a ``name`` process."""
        env = {**self.env, "PORT": str(self.port), **extra_env}
        number = len(self.processes.get(name, []))
        log = open(self.log_dir / f"{name}-{number}.log", "ab")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen([*self.prefix, "bash", "-c", f"exec {command}"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log_file = log  # type: ignore[attr-defined]
        self.processes.setdefault(name, []).append(process)
        return process

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Send ``sig`` to a process's whole group and wait for it to exit."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        process.log_file.close()  # type: ignore[attr-defined]
        for group in self.processes.values():
            if process in group:
                group.remove(process)

    @staticmethod
    def pool_processes(process: subprocess.Popen) -> list[int]:
        """Return the pids of a Celery worker's pool processes (Linux), oldest first."""
        try:
            tasks = list(Path(f"/proc/{process.pid}/task").iterdir())
            return sorted(int(child) for task in tasks
                          for child in (task / "children").read_text().split())
        except OSError:
            return []

    def kill_worker_child(self, process: subprocess.Popen) -> int | None:
        """SIGKILL one pool process of a Celery worker (as the OOM killer would); its pid."""
        children = self.pool_processes(process)
        if not children:
            return None
        os.kill(children[0], signal.SIGKILL)
        return children[0]

    def stop_all(self) -> None:
        """Stop every process this service started."""
        for group in list(self.processes.values()):
            for process in list(group):
                self.stop(process)

    def wait_ready(self, *, workers: int = 1, timeout: float = 60) -> None:
        """Wait until the API answers /readyz with at least ``workers`` workers."""
        def ready():
            try:
                body = requests.get(f"{self.base_url}/readyz", timeout=2).json()
            except (requests.RequestException, ValueError):
                return False
            return body.get("status") == "ready" and body.get("workers", 0) >= workers
        wait_until(ready, timeout=timeout, interval=0.2, what="the service to be ready")


@contextmanager
def running_service(env: dict[str, str], log_dir: Path,
                    process_types: tuple[str, ...] = ("web", "worker"),
                    workers: int = 1) -> Iterator[LiveService]:
    """Start ``process_types`` from the Procfile, wait until ready, stop them all at the end."""
    service = LiveService(env=env, log_dir=log_dir)
    try:
        for process_type in process_types:
            service.start(process_type)
        service.wait_ready(workers=workers)
        yield service
    finally:
        service.stop_all()


def process_environment(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """Return this environment, with our virtualenv first on PATH and the given servers."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update({
        "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env
