"""The Flask CLI commands, run as an operator runs them, on the run's database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def flask(database_url: str, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_create_prints_a_working_pair_once_and_revoke_disables_it(database_url, redis_url, db):
    from app import tenants

    created = flask(database_url, redis_url, "tenants", "create", "cli-tenant")
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.splitlines()[:3])
    api_key, secret_key = lines["APIKey"].strip(), lines["SecretKey"].strip()
    assert tenants.authenticate(db, api_key, secret_key).name == "cli-tenant"

    revoked = flask(database_url, redis_url, "tenants", "revoke", api_key)
    assert revoked.returncode == 0 and revoked.stdout.strip() == "revoked"
    assert tenants.authenticate(db, api_key, secret_key) is None
    again = flask(database_url, redis_url, "tenants", "revoke", api_key)
    assert again.returncode != 0 and "no active key pair" in again.stderr


def test_upgrade_is_idempotent(database_url, redis_url):
    result = flask(database_url, redis_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("applied 0 migration(s)")
