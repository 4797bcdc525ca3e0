"""Configuration from the environment: required servers, typed values, clear errors."""

from __future__ import annotations

import ipaddress

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


def test_webhooks_reach_no_listed_network_by_default():
    assert Config(SERVERS).WEBHOOK_ALLOW_NETWORKS == ()


def test_webhook_networks_are_a_list_of_cidrs():
    config = Config({**SERVERS, "WEBHOOK_ALLOW_NETWORKS": " 10.0.0.0/8, fd00::/8,,127.0.0.1 "})
    assert config.WEBHOOK_ALLOW_NETWORKS == tuple(map(ipaddress.ip_network, [
        "10.0.0.0/8", "fd00::/8", "127.0.0.1/32"]))


@pytest.mark.parametrize(("value", "reason"), [("10.0.0.1/8", "has host bits set"),
                                               ("private", "does not appear to be"),
                                               ("10.0.0.0/8 fd00::/8", "does not appear to be")])
def test_a_bad_webhook_network_is_named(value, reason):
    with pytest.raises(ConfigError, match=f"WEBHOOK_ALLOW_NETWORKS must be networks separated "
                                          f"by commas, like 10.0.0.0/8,fd00::/8; .*{reason}"):
        Config({**SERVERS, "WEBHOOK_ALLOW_NETWORKS": value})


@pytest.mark.parametrize("value", ["true", "false"])
def test_the_old_all_or_nothing_webhook_flag_stops_the_process_naming_its_replacement(value):
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_PRIVATE_NETWORKS is no longer read: "
                                          "list the networks .* in WEBHOOK_ALLOW_NETWORKS"):
        Config({**SERVERS, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": value})
