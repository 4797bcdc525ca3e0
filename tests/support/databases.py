"""A private PostgreSQL database and a private Redis database for one test run.

Each pytest session gets a fresh database (created, migrated, dropped at the end) and
claims a Redis database number no other run holds, so concurrent runs on one machine
(two checkouts, CI beside a developer) never see each other's data.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis
from psycopg import sql

from app.store import migrations

_CLAIM_KEY = "batchq:test-run-claim"
_CLAIM_SECONDS = 3 * 3600


def with_database(url: str, name: str) -> str:
    """Return ``url`` pointing at database ``name``."""
    return psycopg.conninfo.make_conninfo(url, dbname=name)


@contextmanager
def fresh_database(server_url: str, *, migrate: bool = True) -> Iterator[str]:
    """Create (and migrate, unless told not to) a new database on the server; drop it after."""
    name = f"batchq_test_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    try:
        if migrate:
            migrations.upgrade(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def claimed_redis_database(server_url: str) -> Iterator[str]:
    """Claim a Redis database number (1-15) no other run holds; flush it; yield its URL."""
    token = secrets.token_hex(8)
    base = server_url.rsplit("/", 1)[0] if server_url.count("/") > 2 else server_url
    for number in range(1, 16):
        client = redis.Redis.from_url(f"{base}/{number}")
        try:
            if client.set(_CLAIM_KEY, token, nx=True, ex=_CLAIM_SECONDS):
                client.flushdb()
                client.set(_CLAIM_KEY, token, ex=_CLAIM_SECONDS)
                try:
                    yield f"{base}/{number}"
                finally:
                    client.flushdb()
                return
        finally:
            client.close()
    raise RuntimeError("every Redis database 1-15 is claimed by another test run")
