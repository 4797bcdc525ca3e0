"""The chaos run's client waits as a good client does: Retry-After in either of its forms."""

from __future__ import annotations

from devtools.chaos.runner import Api
from tests.support.receiver import Reply, receiver

CREATED = Reply(200, {"Content-Type": "application/json"}, b'{"jobId": 1748392, "status": "queued"}')


def test_a_429_with_an_http_date_retry_after_is_retried():
    # A date in the past: retry at once (a number-only reading would raise on it).
    busy = Reply(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    with receiver([busy, Reply(503, {"Retry-After": "0"}), CREATED]) as stub:
        job_id = Api(stub.url, "ak", "sk").submit("customers", [{"customerId": "a"}])
    assert job_id == 1748392
    assert len(stub.received) == 3
    assert stub.received[0].headers["APIKey"] == "ak"
