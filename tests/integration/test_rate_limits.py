"""Rate limits per API key: 429 with Retry-After under a burst, then service again."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.client import ApiClient
from tests.support.factories import customer
from tests.support.service import LiveService, service_environment

READS, WRITES = 5, 3


@pytest.fixture(scope="module")
def limited_service(database_url, redis_url, tmp_path_factory):
    """A web process with small limits (no worker: jobs only need to be accepted)."""
    env = service_environment(database_url, redis_url, WEB_CONCURRENCY="1",
                              RATE_LIMIT_READS=f"{READS}/2 seconds",
                              RATE_LIMIT_WRITES=f"{WRITES}/2 seconds")
    service = LiveService(env=env, log_dir=tmp_path_factory.mktemp("limited-logs"))
    service.start("web")
    try:
        service.wait_ready(workers=0)
        yield service
    finally:
        service.stop_all()


@pytest.fixture
def client(limited_service, make_tenant):
    tenant_id, pair = make_tenant()
    return ApiClient(limited_service.base_url, pair.api_key, pair.secret_key, tenant_id)


def burst(client: ApiClient, method: str, path: str, count: int, **kwargs) -> list[requests.Response]:
    return [client.request(method, path, **kwargs) for _ in range(count)]


def test_a_burst_of_reads_gets_429_then_service_after_retry_after(client):
    # A fixed window may turn over once during the burst: twice the limit plus one is refused
    # at least once whatever the timing.
    answers = burst(client, "GET", "/batch/no-such-job", 2 * READS + 1)
    statuses = [r.status_code for r in answers]
    assert statuses.count(429) >= 1 and set(statuses) == {404, 429}, statuses
    refused = next(r for r in answers if r.status_code == 429)
    error = refused.json()
    assert (error["code"], error["type"]) == (4029, "General Error")
    assert refused.headers["Content-Type"] == "application/json"
    assert error["requestId"] == refused.headers["X-Request-ID"]
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait)
    assert client.request("GET", "/batch/no-such-job").status_code == 404


def test_writes_and_reads_and_keys_are_counted_apart(client, limited_service, make_tenant):
    writes = burst(client, "POST", "/batch/customers", 2 * WRITES + 1, json={"body": [customer("rl")]})
    assert 429 in [r.status_code for r in writes]
    assert 200 in [r.status_code for r in writes]
    # Reads of the same key, and writes of another key, are not held back by those writes.
    assert client.request("GET", "/batch/no-such-job").status_code == 404
    tenant_id, pair = make_tenant()
    other = ApiClient(limited_service.base_url, pair.api_key, pair.secret_key, tenant_id)
    assert other.request("POST", "/batch/customers", json={"body": [customer("rl")]}).status_code == 200


def test_wrong_secrets_for_a_key_are_limited_too(client):
    guesses = [client.request("GET", "/batch/x", headers={"SecretKey": f"guess-{i}"})
               for i in range(2 * READS + 1)]
    assert 401 in [r.status_code for r in guesses]
    assert 429 in [r.status_code for r in guesses]
