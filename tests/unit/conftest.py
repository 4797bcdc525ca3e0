"""Fixtures for calling the job machinery directly (no broker) on real PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json
import secrets
from contextlib import contextmanager

import pytest

from app import create_app
from app.config import Config
from app.store import jobs, tenants


@pytest.fixture
def make_services(database_url, redis_url):
    """Build services with extra settings; each gets a queue of its own, nobody consumes it."""
    made = []

    def make(**settings: str):
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "CELERY_QUEUE": f"unit-{secrets.token_hex(4)}", **settings}
        services = create_app(Config(env)).extensions["batchq"]
        made.append(services)
        return services

    yield make
    for services in made:
        services.redis.delete(services.config.CELERY_QUEUE)
        services.db.close()
        services.redis.close()


@pytest.fixture
def unit_tenant(db) -> int:
    """A fresh tenant's id."""
    name = f"unit-{secrets.token_hex(4)}"
    tenants.create_tenant(db, name)
    return tenants.ensure_tenant(db, name)


def submit_job(services, tenant_id: int, records: list, operation: str = "customers") -> str:
    """Store a queued job, as the POST does, without enqueuing it."""
    with services.db.transaction() as conn:
        return jobs.create_job(conn, tenant_id, operation, records)


def read_job(services, job_id: str) -> jobs.Job:
    """Return the job row as it is now."""
    with services.db.transaction() as conn:
        return jobs.get_job(conn, job_id)


def sent(services) -> list[tuple[str, list]]:
    """Return (task name, args) of the messages waiting in the services' queue, oldest first."""
    raw = services.redis.lrange(services.config.CELERY_QUEUE, 0, -1)
    messages = [json.loads(item) for item in reversed(raw)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


@pytest.fixture
def app(database_url, redis_url):
    """The Flask application on the test servers, with queues of its own that nobody consumes."""
    app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                             "CHUNK_SIZE": "2",
                             "CELERY_QUEUE": f"unit-{secrets.token_hex(4)}",
                             "WEBHOOK_QUEUE": f"unit-callbacks-{secrets.token_hex(4)}"}))
    yield app
    services = app.extensions["batchq"]
    services.redis.delete(services.config.CELERY_QUEUE, services.config.WEBHOOK_QUEUE)
    services.db.close()
    services.redis.close()


@pytest.fixture
def transactions(app, monkeypatch) -> list[str]:
    """Record each connection the services' pool hands out from now on, by how it was asked
    for: ``"transaction"`` or ``"statement"`` (one statement in autocommit)."""
    db = app.extensions["batchq"].db
    opened: list[str] = []

    def counting(kind: str):
        plain = getattr(db, kind)

        @contextmanager
        def counted():
            opened.append(kind)
            with plain() as conn:
                yield conn
        return counted

    for kind in ("transaction", "statement"):
        monkeypatch.setattr(db, kind, counting(kind))
    return opened
