"""Command-line tools: ``flask --app app db upgrade`` and ``flask --app app tenants ...``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import click
import psycopg
from flask.cli import AppGroup

from app.config import parse_rate
from app.services import current_services
from app.store import migrations, points_rules, tenants

db_cli = AppGroup("db", help="Manage the database schema.")
tenants_cli = AppGroup("tenants", help="Manage tenants and their API key pairs.")


@contextmanager
def command_transaction() -> Iterator[psycopg.Connection]:
    """Yield a connection in one transaction; close the pool after (a command is short-lived)."""
    db = current_services().db
    try:
        with db.transaction() as conn:
            yield conn
    finally:
        db.close()


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply the migrations not yet applied, then provision BATCH_API_KEYS."""
    config = current_services().config
    applied = migrations.upgrade(config.DATABASE_URL)
    click.echo(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    if config.BATCH_API_KEYS:
        with command_transaction() as conn:
            added = tenants.provision(conn, config.BATCH_API_KEYS)
        click.echo(f"provisioned {added} new key pair(s) from BATCH_API_KEYS")


@tenants_cli.command("create")
@click.argument("name")
def create_tenant_command(name: str) -> None:
    """Create tenant NAME (or add a pair to it) and print its new key pair, once."""
    with command_transaction() as conn:
        pair = tenants.create_tenant(conn, name)
    click.echo(f"tenant:    {name}\nAPIKey:    {pair.api_key}\nSecretKey: {pair.secret_key}")
    click.echo("Store the SecretKey now: it is kept only as a hash and cannot be shown again.")


@tenants_cli.command("revoke")
@click.argument("api_key")
def revoke_key_command(api_key: str) -> None:
    """Revoke the key pair whose APIKey is API_KEY; it stops working at once."""
    with command_transaction() as conn:
        revoked = tenants.revoke_key(conn, api_key)
    if not revoked:
        raise click.ClickException("no active key pair has that APIKey")
    click.echo("revoked")


class RateType(click.ParamType):
    """A rate in points per currency unit, kept exact (0.1 stays 0.1, not a binary float)."""

    name = "rate"

    def __init__(self, *, positive: bool) -> None:
        self.positive = positive

    def convert(self, value, param, ctx) -> Decimal:
        try:
            return parse_rate(str(value), positive=self.positive)
        except ValueError as error:
            self.fail(str(error), param, ctx)


@tenants_cli.command("points-rule")
@click.argument("name")
@click.option("--earning-rate", type=RateType(positive=False), default=None,
              help="Points earned per currency unit spent (orders, cashback).")
@click.option("--redemption-rate", type=RateType(positive=True), default=None,
              help="Points spent per currency unit redeemed (a redemption given as amount).")
def points_rule_command(name: str, earning_rate: Decimal | None,
                        redemption_rate: Decimal | None) -> None:
    """Show tenant NAME's points rule, or change the rates given."""
    default = points_rules.default_rule(current_services().config)
    with command_transaction() as conn:
        tenant_id = tenants.find_tenant(conn, name)
        if tenant_id is None:
            raise click.ClickException(f"no tenant named {name!r}")
        if earning_rate is None and redemption_rate is None:
            rule = points_rules.tenant_rule(conn, tenant_id, default)
        else:
            rule = points_rules.set_tenant_rule(
                conn, tenant_id, earning_rate=earning_rate, redemption_rate=redemption_rate,
                default=default)
    click.echo(f"tenant:          {name}\nearning rate:    {rule.earning_rate} points per unit"
               f"\nredemption rate: {rule.redemption_rate} points per unit")
