"""The long-lived objects a process needs, built once from the configuration.

Web and worker processes alike hold one ``Services``: the configuration, the PostgreSQL
pool, the Redis client, the live progress counters and the Celery app. Connections open
lazily, on first use, so building it costs nothing and a fork never shares one.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery import Celery
from flask import current_app

from app.config import Config
from app.messaging.progress import ProgressStore
from app.store.db import Database


@dataclass
class Services:
    """Configuration, database pool, Redis, live progress and the Celery app."""

    config: Config
    db: Database
    redis: redis.Redis
    progress: ProgressStore
    celery: Celery


def build_services(config: Config, celery: Celery) -> Services:
    """Create the services for ``config`` (connections open lazily, on first use)."""
    db = Database(config.DATABASE_URL, min_size=config.DB_POOL_MIN_SIZE,
                  max_size=config.DB_POOL_MAX_SIZE,
                  statement_timeout_ms=config.DB_STATEMENT_TIMEOUT_MS,
                  lock_timeout_ms=config.DB_LOCK_TIMEOUT_MS,
                  pool_timeout=config.DB_POOL_TIMEOUT_SECONDS,
                  dead_peer_seconds=config.DB_DEAD_PEER_SECONDS,
                  idle_in_transaction_timeout_ms=config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS)
    # Short timeouts: a request must fail fast (and fall back) when Redis is away.
    client = redis.Redis.from_url(config.REDIS_URL, socket_timeout=2, socket_connect_timeout=2,
                                  health_check_interval=30)
    return Services(config=config, db=db, redis=client,
                    progress=ProgressStore(client, ttl_seconds=config.PROGRESS_TTL_SECONDS),
                    celery=celery)


def current_services() -> Services:
    """Return the services of the current Flask application."""
    return current_app.extensions["batchq"]
