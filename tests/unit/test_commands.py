"""The Flask CLI commands, run as an operator runs them, on the run's database."""

from __future__ import annotations

from tests.support.cli import flask


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
