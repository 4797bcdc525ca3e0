"""Command-line tools: ``flask --app app db upgrade`` and ``flask --app app tenants ...``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import migrations, tenants
from app.services import current_services

db_cli = AppGroup("db", help="Manage the database schema.")
tenants_cli = AppGroup("tenants", help="Manage tenants and their API key pairs.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply the migrations not yet applied, then provision BATCH_API_KEYS."""
    services = current_services()
    applied = migrations.upgrade(services.config.DATABASE_URL)
    click.echo(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    if services.config.BATCH_API_KEYS:
        with services.db.transaction() as conn:
            added = tenants.provision(conn, services.config.BATCH_API_KEYS)
        click.echo(f"provisioned {added} new key pair(s) from BATCH_API_KEYS")
    services.db.close()


@tenants_cli.command("create")
@click.argument("name")
def create_tenant_command(name: str) -> None:
    """Create tenant NAME (or add a pair to it) and print its new key pair, once."""
    services = current_services()
    with services.db.transaction() as conn:
        pair = tenants.create_tenant(conn, name)
    services.db.close()
    click.echo(f"tenant:    {name}\nAPIKey:    {pair.api_key}\nSecretKey: {pair.secret_key}")
    click.echo("Store the SecretKey now: it is kept only as a hash and cannot be shown again.")


@tenants_cli.command("revoke")
@click.argument("api_key")
def revoke_key_command(api_key: str) -> None:
    """Revoke the key pair whose APIKey is API_KEY; it stops working at once."""
    services = current_services()
    with services.db.transaction() as conn:
        revoked = tenants.revoke_key(conn, api_key)
    services.db.close()
    if not revoked:
        raise click.ClickException("no active key pair has that APIKey")
    click.echo("revoked")
