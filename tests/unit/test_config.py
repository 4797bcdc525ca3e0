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
    ("CHUNK_SIZE", "many", "whole number"), ("CHUNK_SIZE", "0", "at least 1")])
def test_bad_values_are_named(name, value, fragment):
    with pytest.raises(ConfigError, match=f"{name} must be .*{fragment}|{name}.*{fragment}"):
        Config({**SERVERS, name: value})


def test_celery_settings_keep_chunks_safe():
    settings = Config(SERVERS).celery_settings()
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["broker_url"] == "redis://r/0"
    assert settings["worker_send_task_events"] and settings["task_send_sent_event"]
