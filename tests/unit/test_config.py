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
    ("DB_POOL_MAX_SIZE", "0", "at least 1"), ("WARM_START", "maybe", "true or false")])
def test_bad_values_are_named(name, value, fragment):
    with pytest.raises(ConfigError, match=f"{name} must be .*{fragment}|{name}.*{fragment}"):
        Config({**SERVERS, name: value})


def test_warm_start_is_on_unless_turned_off():
    assert Config(SERVERS).WARM_START is True
    assert Config({**SERVERS, "WARM_START": "false"}).WARM_START is False


def test_the_broker_is_redis_unless_rabbitmq_is_named():
    assert Config(SERVERS).BROKER_URL == "redis://r/0"
    rabbit = Config({**SERVERS, "BROKER_URL": "amqp://u:p@mq:5672/batchq"})
    assert (rabbit.BROKER_URL, rabbit.REDIS_URL) == ("amqp://u:p@mq:5672/batchq", "redis://r/0")


def test_a_host_is_lost_only_after_missing_a_heartbeat():
    with pytest.raises(ConfigError, match="WORKER_LOST_AFTER_SECONDS must exceed"):
        Config({**SERVERS, "WORKER_HEARTBEAT_SECONDS": "30", "WORKER_LOST_AFTER_SECONDS": "30"})
