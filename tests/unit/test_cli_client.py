"""The CLI's HTTP client: 429 and 503 are retried, after Retry-After when given."""

from __future__ import annotations

import httpx
import pytest

from batchq_cli.client import ApiError, BatchClient, RetryPolicy
from batchq_cli.retry_after import retry_after_seconds
from tests.support.receiver import Reply, receiver

CREATED = Reply(200, {"Content-Type": "application/json"}, b'{"jobId": 1748392, "status": "queued"}')


def client_for(url: str, waits: list[float], attempts: int = 8) -> BatchClient:
    return BatchClient(url, "ak", "sk", retry=RetryPolicy(attempts=attempts), sleep=waits.append)


def test_429_and_503_are_retried_respecting_retry_after():
    waits: list[float] = []
    with receiver([Reply(429, {"Retry-After": "7"}), Reply(503), CREATED]) as stub:
        job_id = client_for(stub.url, waits).submit("customers", [{"customerId": "a"}], "key-1")
    assert job_id == 1748392
    assert len(stub.received) == 3
    assert waits[0] == 7.0 and 0 < waits[1] <= 1.0  # Retry-After, then backoff
    keys = {r.headers["Idempotency-Key"] for r in stub.received}
    assert keys == {"key-1"}  # every attempt is the same request
    assert stub.received[0].headers["APIKey"] == "ak"


def test_other_errors_are_not_retried():
    waits: list[float] = []
    body = b'{"code": 3016, "message": "The request body is not valid."}'
    with receiver([Reply(400, {"Content-Type": "application/json"}, body)]) as stub:
        with pytest.raises(ApiError) as raised:
            client_for(stub.url, waits).submit("customers", [{}], "key-2")
    assert raised.value.status == 400 and "not valid" in str(raised.value)
    assert waits == [] and len(stub.received) == 1


def test_retries_end_with_the_last_answer():
    waits: list[float] = []
    with receiver(last=Reply(503, {"Retry-After": "1"})) as stub:
        with pytest.raises(ApiError) as raised:
            client_for(stub.url, waits, attempts=3).job("j1")
    assert raised.value.status == 503 and waits == [1.0, 1.0] and len(stub.received) == 3


def test_a_refused_connection_is_retried_then_reported():
    waits: list[float] = []
    with pytest.raises(ApiError, match="ConnectError"):
        client_for("http://127.0.0.1:9", waits, attempts=2).job("j1")
    assert len(waits) == 1


def test_retry_after_as_an_http_date():
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_seconds(response) == 0.0
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None
