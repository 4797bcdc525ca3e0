"""A web process opens its connections when it starts (app/runtime/warmup.py)."""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack

import redis
from kombu.exceptions import LimitExceeded

from app import create_app
from app.config import Config
from app.runtime.warmup import _open_broker_connections, warm_up
from app.store import tenants
from devtools.servers import free_port


def test_warm_up_opens_the_pool_stores_the_keys_and_declares_the_queue(make_services):
    services = make_services(DB_POOL_MIN_SIZE="3", BATCH_API_KEYS="warm-shop:warm-pk:warm-sk")
    warm_up(services).join(30)
    services.db.pool.wait(10)
    assert services.db.pool.get_stats()["pool_size"] >= 3
    with services.db.transaction() as conn:
        tenant = tenants.authenticate(conn, "warm-pk", "warm-sk")
    assert tenant is not None and tenant.name == "warm-shop"
    client = redis.Redis.from_url(services.config.REDIS_URL)
    assert client.exists(f"_kombu.binding.{services.config.CELERY_QUEUE}")


def test_warm_up_with_redis_away_leaves_the_work_to_the_requests(database_url, caplog):
    # Not make_services: its clean-up needs the Redis that is away here.
    services = create_app(Config({"DATABASE_URL": database_url,
                                  "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                                  "BATCH_API_KEYS": "warm-away:away-pk:away-sk"})
                          ).extensions["batchq"]
    try:
        with caplog.at_level(logging.WARNING, logger="app.runtime.warmup"):
            thread = warm_up(services)
            thread.join(60)
        assert not thread.is_alive()
        assert any("warm-up left undone" in r.getMessage() for r in caplog.records)
        with services.db.transaction() as conn:  # what needs no Redis was done first
            assert tenants.authenticate(conn, "away-pk", "away-sk") is not None
    finally:
        services.db.close()


def test_warm_up_readies_a_connection_of_each_kind_per_request_served_at_once(make_services):
    services = make_services(DB_POOL_MIN_SIZE="3")
    celery = services.celery
    assert "send_task_message" not in vars(celery.amqp)
    warm_up(services).join(30)
    # Celery's task sender is built (its first use imports the event dispatcher).
    assert "send_task_message" in vars(celery.amqp)
    # Three requests at once find a connected Redis connection each...
    pool = services.redis.connection_pool
    held = [pool.get_connection() for _ in range(3)]
    try:
        assert all(connection.is_connected for connection in held)
        assert len({id(connection) for connection in held}) == 3
    finally:
        for connection in held:
            pool.release(connection)
    # ...and a broker connection of its own for their producers, already open.
    with ExitStack() as stack:
        connections = [stack.enter_context(celery.pool.acquire(block=False)) for _ in range(3)]
        assert len({id(connection) for connection in connections}) == 3
        assert all(connection.connected for connection in connections)


def test_opening_broker_connections_never_waits_for_a_full_pool(make_services):
    celery = make_services().celery
    held = []
    try:
        while True:  # every connection the pool may hold (broker_pool_limit) taken
            try:
                held.append(celery.pool.acquire(block=False))
            except LimitExceeded:
                break
        opener = threading.Thread(target=_open_broker_connections, args=(celery, 3), daemon=True)
        opener.start()
        opener.join(10)
        assert not opener.is_alive()
    finally:
        for connection in held:
            connection.release()
