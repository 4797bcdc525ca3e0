"""Configuration from the environment: required servers, typed values, clear errors."""

from __future__ import annotations

import pytest

from app.config import Config, ConfigError

SERVERS = {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"}


def test_servers_are_required_with_a_helpful_message():
    with pytest.raises(ConfigError, match="DATABASE_URL is not set.*make run"):
        Config({"REDIS_URL": "redis://r/0"})


def test_defaults_and_overrides():
    config = Config({**SERVERS, "CHUNK_SIZE": "50"})
    assert config.CHUNK_SIZE == 50
    assert config.MAX_RECORDS_PER_REQUEST == 1000
    assert config.MAX_CONTENT_LENGTH == 5 * 1024 * 1024


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("CHUNK_SIZE", "many", "whole number"), ("CHUNK_SIZE", "0", "at least 1"),
    ("WORKER_NICENESS", "20", "at most 19")])
def test_bad_values_are_named(name, value, fragment):
    with pytest.raises(ConfigError, match=f"{name} must be .*{fragment}|{name}.*{fragment}"):
        Config({**SERVERS, name: value})


def test_celery_settings_keep_chunks_safe():
    settings = Config(SERVERS).celery_settings()
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["broker_url"] == "redis://r/0"
    # Task events only once Flower (or -E) turns them on; never a "sent" event from a POST.
    assert not settings["worker_send_task_events"] and not settings["task_send_sent_event"]


def test_failure_handling_settings_agree():
    config = Config(SERVERS)
    settings = config.celery_settings()
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
    schedule = config.celery_settings()["beat_schedule"]
    assert schedule == config.beat_schedule()
    assert schedule["sweep-jobs"] == {"task": "batch.sweep_jobs", "schedule": 7.0,
                                      "options": {"expires": 7}}


def test_beat_sends_the_retention_purge():
    config = Config({**SERVERS, "PURGE_INTERVAL_SECONDS": "60", "RESULT_RETENTION_DAYS": "3"})
    assert config.RESULT_RETENTION_DAYS == 3
    assert config.beat_schedule()["purge-results"] == {
        "task": "batch.purge_results", "schedule": 60.0, "options": {"expires": 60}}
