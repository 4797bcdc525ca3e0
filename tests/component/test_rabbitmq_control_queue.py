"""A worker's remote-control queue on RabbitMQ can be declared again while the connection that
declared it is still open: what a worker does when it reconnects after a cut link, before the
server has given up on its old connection (two missed heartbeats).

With Celery's default, an exclusive queue, that declaration fails (RESOURCE_LOCKED) and the
worker exits on it; ``celery_settings`` makes the queue non-exclusive on RabbitMQ.
"""

from __future__ import annotations

import pytest
from amqp.exceptions import ResourceLocked
from celery import Celery
from kombu import Connection

from app.config import Config
from app.messaging.celery_app import celery_settings


def _control_queue(url: str, **overrides):
    celery = Celery(set_as_current=False)
    settings = celery_settings(Config({"DATABASE_URL": "postgresql://db/x",
                                       "REDIS_URL": "redis://r/0", "BROKER_URL": url}))
    celery.conf.update({**settings, **overrides})
    return celery.control.mailbox.get_queue("celery@cut-off-host")


def _declare_twice(url: str, queue) -> None:
    """Declare ``queue`` and consume it on one connection, then declare it on another."""
    with Connection(url) as old, Connection(url) as new:
        channel = old.channel()
        queue.bind(channel).declare()
        channel.basic_consume(queue.name, no_ack=True)
        queue.bind(new.channel()).declare()


def test_a_reconnecting_worker_declares_its_control_queue_again(rabbitmq_url):
    _declare_twice(rabbitmq_url, _control_queue(rabbitmq_url))


def test_celerys_exclusive_default_would_lock_it_out(rabbitmq_url):
    # What the setting prevents: the old connection still holds the queue.
    with pytest.raises(ResourceLocked):
        _declare_twice(rabbitmq_url,
                       _control_queue(rabbitmq_url, control_queue_exclusive=True))
