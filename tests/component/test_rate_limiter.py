"""The rate limiter on a real Redis: counting, Retry-After, and failing open."""

from __future__ import annotations

import secrets
import socket
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import Config, ConfigError
from app.web.ratelimit import RateLimiter


@pytest.fixture
def client(redis_url):
    with redis.Redis.from_url(redis_url) as connection:
        yield connection


def test_over_the_limit_says_how_long_to_wait_and_keys_are_apart(client):
    limiter = RateLimiter(client, writes="2/2 seconds", reads="3/2 seconds")
    key = secrets.token_hex(8)
    # Twice the limit plus one: refused at least once even if a window turns over.
    waits = [limiter.retry_after(key, "POST") for _ in range(5)]
    refused = [w for w in waits if w is not None]
    assert refused and all(1 <= w <= 2 for w in refused)
    assert limiter.retry_after(key, "GET") is None  # reads have their own count
    assert limiter.retry_after(secrets.token_hex(8), "POST") is None  # and so has every key
    time.sleep(refused[-1])
    assert limiter.retry_after(key, "POST") is None


def test_the_key_itself_is_not_stored_in_redis(client):
    limiter = RateLimiter(client, writes="5/minute", reads="5/minute")
    key = "ak_" + secrets.token_hex(8)
    limiter.retry_after(key, "DELETE")
    assert not [k for k in client.keys("*") if key.encode() in k]
    assert client.keys("batchq:ratelimit*")


def _silent_server() -> socket.socket:
    """A TCP port that accepts connections and never answers (a Redis that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


@pytest.mark.parametrize("failure", ["refused", "hangs"])
def test_a_redis_that_is_down_or_hangs_lets_requests_through(failure):
    if failure == "refused":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = None
    else:
        server = _silent_server()
        port = server.getsockname()[1]
    # No retries inside redis-py: the limiter's own handling is what is tested.
    broken = redis.Redis(port=port, socket_timeout=0.2, socket_connect_timeout=0.2,
                         retry=Retry(NoBackoff(), 0))
    try:
        limiter = RateLimiter(broken, writes="1/minute", reads="1/minute", pause_after_error=60)
        assert [limiter.retry_after("k", "POST") for _ in range(3)] == [None] * 3
    finally:
        broken.close()
        if server is not None:
            server.close()


@pytest.mark.parametrize("value", ["lots", "0/second", "30/fortnight"])
def test_unreadable_rates_are_refused_at_start(value):
    with pytest.raises(ConfigError, match="RATE_LIMIT_READS must be rates"):
        Config({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0",
                "RATE_LIMIT_READS": value})


def test_default_rates_are_gameballs():
    config = Config({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"})
    assert (config.RATE_LIMIT_WRITES, config.RATE_LIMIT_READS) == (
        "30/second;360 per 30 seconds", "100/second")
