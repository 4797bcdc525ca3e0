"""``make run`` in tests: the command the Makefile runs, as a process, its output read live.

``python -m devtools.run`` is what ``make run`` runs once the virtualenv is installed; tests
give it their own servers (DATABASE_URL, REDIS_URL) and free ports, never ``.run/``, so a
developer's own ``make run`` in the same checkout is left alone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

from devtools.service import ROOT, process_environment, wait_until

# What make run decides by itself unless told: the tests say each explicitly, or leave it out.
DECIDED_BY_MAKE_RUN = ("HOST", "FLOWER_ADDRESS", "PORT", "FLOWER_PORT", "BATCH_API_KEYS",
                       "OPERATOR_TOKEN", "WEBHOOK_ALLOW_NETWORKS", "PROMETHEUS_MULTIPROC_DIR")
BANNER_END = "Ctrl-C stops everything."


@dataclass
class MakeRun:
    """A running ``make run`` and the lines it has printed so far."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, *, timeout: float = 120) -> str:
        """Wait until ``text`` has been printed; return the output so far."""
        def printed():
            if text in self.output:
                return True
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited ({self.process.returncode}) before "
                                     f"printing {text!r}:\n{self.output}")
            return False
        wait_until(printed, timeout=timeout, interval=0.2, what=f"make run to print {text!r}")
        return self.output

    def exit_status(self, *, timeout: float = 120) -> int:
        """Wait for make run to end by itself; return its exit status."""
        status = self.process.wait(timeout)
        self._reader.join(10)
        return status

    def stop(self) -> None:
        """Stop make run as Ctrl-C would, and whatever it started."""
        try:
            started = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # Honcho stops its processes before make run returns; this is for a make run that hung.
        _, alive = psutil.wait_procs(started, timeout=10)
        for process in alive:
            process.kill()
        self._reader.join(10)
        self.process.stdout.close()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)


def make_run_environment(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """Return the environment of a make run on these servers, with these settings only."""
    env = process_environment(database_url, redis_url)
    for name in DECIDED_BY_MAKE_RUN:
        env.pop(name, None)
    env.update(settings)
    return env


@contextmanager
def make_run(env: dict[str, str]) -> Iterator[MakeRun]:
    """Start ``make run`` with ``env``; stop it at the end."""
    process = subprocess.Popen([sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    run = MakeRun(process)
    try:
        yield run
    finally:
        run.stop()
