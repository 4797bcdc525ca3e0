"""Celery's settings, derived from the configuration: chunks are never lost, beat's tasks."""

from __future__ import annotations

from app.config import Config
from app.messaging.celery_app import beat_schedule, celery_settings

SERVERS = {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"}


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
