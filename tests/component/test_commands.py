"""The Flask CLI commands, run as an operator runs them, on the run's database."""

from __future__ import annotations

from app import create_app
from app.config import Config
from app.store import tenants
from tests.support.cli import flask


def test_create_prints_a_working_pair_once_and_revoke_disables_it(database_url, redis_url, db):
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


def test_points_rule_shows_defaults_changes_one_rate_and_refuses_nonsense(database_url,
                                                                          redis_url, db):
    tenants.create_tenant(db, "rule-tenant")
    app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url}))

    def points_rule(*args: str):
        # In process (the subprocess tests above show the command line itself works).
        return app.test_cli_runner().invoke(args=["tenants", "points-rule", *args])

    shown = points_rule("rule-tenant")
    assert "earning rate:    1 points per unit" in shown.output, shown.output
    changed = points_rule("rule-tenant", "--redemption-rate", "0.1")
    assert changed.exit_code == 0, changed.output
    assert "redemption rate: 0.1 points per unit" in changed.output
    assert "earning rate:    1 points per unit" in changed.output
    refused = points_rule("rule-tenant", "--earning-rate", "-1")
    assert refused.exit_code != 0 and "non-negative number" in refused.output
    unknown = points_rule("nobody")
    assert unknown.exit_code != 0 and "no tenant named 'nobody'" in unknown.output
