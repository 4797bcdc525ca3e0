"""Fixtures for the component tests: the job machinery and the Flask app called in-process (no
broker consumes their queues), on real PostgreSQL and Redis."""

from __future__ import annotations

import secrets

import pytest

from app import create_app
from app.config import Config
from app.store import tenants


@pytest.fixture
def make_services(database_url, redis_url):
    """Build services with extra settings; each gets a queue of its own, nobody consumes it."""
    made = []

    def make(**settings: str):
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "CELERY_QUEUE": f"component-{secrets.token_hex(4)}",
               "BULK_QUEUE": f"component-bulk-{secrets.token_hex(4)}", **settings}
        services = create_app(Config(env)).extensions["batchq"]
        made.append(services)
        return services

    yield make
    for services in made:
        services.redis.delete(services.config.CELERY_QUEUE, services.config.BULK_QUEUE)
        services.db.close()
        services.redis.close()


@pytest.fixture
def db_tenant(db) -> int:
    """A fresh tenant's id."""
    name = f"component-{secrets.token_hex(4)}"
    tenants.create_tenant(db, name)
    return tenants.ensure_tenant(db, name)


@pytest.fixture
def make_app(database_url, redis_url):
    """Build Flask applications on the test servers, CHUNK_SIZE 2 unless told, with extra
    settings; each has queues of its own that nobody consumes."""
    made = []

    def make(**settings: str):
        app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                                 "CHUNK_SIZE": "2",
                                 "CELERY_QUEUE": f"component-{secrets.token_hex(4)}",
                                 "BULK_QUEUE": f"component-bulk-{secrets.token_hex(4)}",
                                 "WEBHOOK_QUEUE": f"component-callbacks-{secrets.token_hex(4)}",
                                 **settings}))
        made.append(app)
        return app

    yield make
    for app in made:
        services = app.extensions["batchq"]
        services.redis.delete(services.config.CELERY_QUEUE, services.config.BULK_QUEUE,
                              services.config.WEBHOOK_QUEUE)
        services.db.close()
        services.redis.close()


@pytest.fixture
def app(make_app):
    """The Flask application on the test servers, with queues of its own that nobody consumes."""
    return make_app()


@pytest.fixture
def tenant_client(app, make_tenant):
    """A test client of ``app`` sending a fresh tenant's keys; its ``tenant_id`` is the tenant's."""
    tenant_id, pair = make_tenant()
    client = app.test_client()
    client.environ_base.update({"HTTP_APIKEY": pair.api_key, "HTTP_SECRETKEY": pair.secret_key})
    client.tenant_id = tenant_id
    return client
