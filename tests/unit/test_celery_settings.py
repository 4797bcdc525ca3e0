"""Celery's settings, derived from the configuration: chunks are never lost, beat's tasks."""

from __future__ import annotations

from app.config import Config
from app.messaging.celery_app import beat_schedule, celery_settings
from app.messaging.queue import whole_seconds

SERVERS = {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"}
RABBITMQ = {**SERVERS, "BROKER_URL": "amqp://guest:guest@mq:5672/batchq"}


def test_celery_settings_keep_chunks_safe():
    settings = celery_settings(Config(SERVERS))
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["broker_url"] == "redis://r/0"
    # Task events only once Flower (or -E) turns them on; never a "sent" event from a POST.
    assert not settings["worker_send_task_events"] and not settings["task_send_sent_event"]


def test_failure_handling_settings_agree():
    config = Config(SERVERS)
    settings = celery_settings(config)
    assert settings["worker_prefetch_multiplier"] == 1
    # One visibility timeout for broker and results: differing ones redeliver early.
    assert (settings["broker_transport_options"]["visibility_timeout"]
            == settings["result_backend_transport_options"]["visibility_timeout"]
            == config.BROKER_VISIBILITY_TIMEOUT)
    # A stalled job is picked up again within a minute by default.
    assert config.STALLED_AFTER_SECONDS + config.SWEEP_INTERVAL_SECONDS <= 60
    assert config.CHUNK_MAX_ATTEMPTS == 5


def test_beat_sends_the_sweeper_every_interval_and_drops_unrun_copies():
    config = Config({**SERVERS, "SWEEP_INTERVAL_SECONDS": "7"})
    schedule = celery_settings(config)["beat_schedule"]
    assert schedule == beat_schedule(config)
    assert schedule["sweep-jobs"] == {"task": "batch.sweep_jobs", "schedule": 7.0,
                                      "options": {"expires": 7}}


def test_beat_sends_the_retention_purge():
    config = Config({**SERVERS, "PURGE_INTERVAL_SECONDS": "60", "RESULT_RETENTION_DAYS": "3"})
    assert config.RESULT_RETENTION_DAYS == 3
    assert beat_schedule(config)["purge-results"] == {
        "task": "batch.purge_results", "schedule": 60.0, "options": {"expires": 60}}


def test_rabbitmq_gets_durable_quorum_queues_on_topic_exchanges():
    settings = celery_settings(Config(RABBITMQ))
    assert settings["broker_url"] == "amqp://guest:guest@mq:5672/batchq"
    queues = {queue.name: queue for queue in settings["task_queues"]}
    assert list(queues) == ["batch", "bulk", "callbacks"]
    for name, queue in queues.items():
        assert queue.durable and queue.queue_arguments == {"x-queue-type": "quorum"}
        # Native Delayed Delivery routes a countdown through topic exchanges only.
        assert (queue.exchange.name, queue.exchange.type, queue.routing_key) == \
            (name, "topic", name)
    assert settings["task_default_queue_type"] == "quorum"
    assert settings["broker_transport_options"] == {"confirm_publish": True}
    assert settings["broker_heartbeat"] == 10
    # A reconnecting worker declares its control queue again (test_rabbitmq_control_queue).
    assert settings["control_queue_exclusive"] is False


def test_redis_waits_on_a_silent_broker_no_longer_than_the_timeout():
    config = Config({**SERVERS, "BROKER_TIMEOUT_SECONDS": "3"})
    settings = celery_settings(config)
    options = settings["broker_transport_options"]
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 3
    assert options["health_check_interval"] == config.BROKER_HEARTBEAT_SECONDS
    assert settings["broker_connection_timeout"] == 3
    assert [queue.queue_arguments for queue in settings["task_queues"]] == [None, None, None]



def test_countdowns_are_whole_seconds_as_native_delayed_delivery_takes_them():
    # Celery refuses a countdown that int() rounds to zero on RabbitMQ.
    assert [whole_seconds(s) for s in (0.0, 0.3, 1.0, 2.1)] == [1, 1, 1, 3]
