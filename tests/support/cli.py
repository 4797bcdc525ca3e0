"""Running the Flask CLI as an operator does, against a test run's servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def flask(database_url: str, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``flask --app app ARGS`` with the run's DATABASE_URL and REDIS_URL."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
