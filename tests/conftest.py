"""Session fixtures: real PostgreSQL, Redis and RabbitMQ servers, a private database (or
virtual host) on each.

Servers come from DATABASE_URL / REDIS_URL, else the default local ports, else embedded
ones started under .run/test (see devtools.servers); RabbitMQ from RABBITMQ_URL, else the
local server (see tests.support.brokers).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.store import tenants
from devtools.servers import provide_servers
from tests.support.brokers import claimed_vhost, rabbitmq_server_url, unavailable_reason
from tests.support.databases import claimed_redis_database, fresh_database

ROOT = Path(__file__).resolve().parents[1]
TIERS = ("unit", "component", "integration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, the folder it lives in."""
    for item in items:
        tier = Path(item.path).relative_to(ROOT / "tests").parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def servers():
    """The PostgreSQL and Redis servers this run uses."""
    with provide_servers(ROOT / ".run" / "test", try_local_defaults=True) as found:
        yield found


@pytest.fixture(scope="session")
def database_url(servers) -> Iterator[str]:
    """A fresh, migrated database for this run."""
    with fresh_database(servers.database_url) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(servers) -> Iterator[str]:
    """A Redis database number claimed for this run."""
    with claimed_redis_database(servers.redis_url) as url:
        yield url


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this run's own."""
    server = rabbitmq_server_url()
    if reason := unavailable_reason(server):
        pytest.skip(reason)
    with claimed_vhost(server) as url:
        yield url


@pytest.fixture
def db(database_url) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the run's database, for assertions and set-up."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def make_tenant(database_url):
    """Create tenants with a fresh key pair each: ``make_tenant() -> (tenant_id, KeyPair)``."""
    def make(name: str | None = None) -> tuple[int, tenants.KeyPair]:
        name = name or f"tenant-{secrets.token_hex(4)}"
        with psycopg.connect(database_url) as conn:
            pair = tenants.create_tenant(conn, name)
            tenant_id = tenants.ensure_tenant(conn, name)
        return tenant_id, pair
    return make
