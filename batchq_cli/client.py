"""The HTTP side of the CLI: the batch API with the tenant's keys, and polite retries.

A request answered 429 or 503, or lost to a connection error or a timeout, is sent again
after ``Retry-After`` when the service gives one, else after an exponential backoff with
jitter. POSTs carry an ``Idempotency-Key``, so sending one again never creates a second job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from app.backoff import backoff_seconds
from batchq_cli.retry_after import retry_after_seconds

PREFIX = "/api/v4.0/integrations"
RETRY_STATUSES = (429, 503)
FINAL_STATUSES = ("completed", "stopped", "failed")


class ApiError(Exception):
    """The service refused a request (after any retries)."""

    def __init__(self, response: httpx.Response | None, message: str) -> None:
        super().__init__(message)
        self.response = response
        self.status = response.status_code if response is not None else None


@dataclass
class RetryPolicy:
    """How often and how long to wait before sending a request again."""

    attempts: int = 8
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Return the wait before attempt ``attempt + 1``: Retry-After, else backoff."""
        retry_after = retry_after_seconds(response) if response is not None else None
        if retry_after is not None:
            return min(retry_after, self.retry_after_max)
        return backoff_seconds(attempt, base=self.backoff_base, maximum=self.backoff_max)


class BatchClient:
    """One tenant's view of the batch API."""

    def __init__(self, base_url: str, api_key: str, secret_key: str, *,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_retry: Callable[[str], None] | None = None) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + PREFIX, timeout=timeout,
                                 headers={"APIKey": api_key, "SecretKey": secret_key,
                                          "User-Agent": "batchq-cli/1"},
                                 limits=httpx.Limits(max_connections=32))
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.on_retry = on_retry or (lambda message: None)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def request(self, method: str, path: str, *,
                body: Callable[[], Iterable[bytes]] | None = None,
                **kwargs: Any) -> httpx.Response:
        """Send a request, retrying 429, 503 and lost connections; return the last answer.

        ``body`` makes the request's body afresh for each attempt (a streamed one cannot be
        sent twice).
        """
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            if body is not None:
                kwargs["content"] = body()
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as error:
                if last:
                    raise ApiError(None, f"{method} {path}: {type(error).__name__}: {error}") from None
                self._wait(attempt, None, f"{method} {path}: {type(error).__name__}")
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            self._wait(attempt, response, f"{method} {path}: HTTP {response.status_code}")
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, response: httpx.Response | None, what: str) -> None:
        delay = self.retry.delay(attempt, response)
        self.on_retry(f"{what}; retrying in {delay:.1f}s")
        self.sleep(delay)

    def submit(self, operation: str, records: list[Any], idempotency_key: str) -> str:
        """Submit one request's records; return the job id."""
        response = self.request("POST", f"/batch/{operation}", content=_json_body(records),
                                headers={"Content-Type": "application/json",
                                         "Idempotency-Key": idempotency_key})
        if response.status_code != 200:
            raise ApiError(response, error_message(response))
        return response.json()["jobId"]

    def job(self, job_id: str) -> dict:
        """Return the job's status body."""
        return self._json("GET", f"/batch/{job_id}")

    def stop(self, job_id: str) -> dict:
        """Stop the job; return its final status body."""
        return self._json("DELETE", f"/batch/{job_id}")

    def jobs_since(self, created_after: str | None) -> Iterator[dict]:
        """Yield the tenant's jobs created after ``created_after`` (ISO 8601), newest first."""
        params: dict[str, Any] = {"limit": 100}
        if created_after:
            params["createdAfter"] = created_after
        while True:
            page = self._json("GET", "/batch", params=params)
            yield from page["jobs"]
            if not page["nextCursor"]:
                return
            params["cursor"] = page["nextCursor"]

    def open_upload(self, operation: str, idempotency_key: str) -> int:
        """Open a multi-part upload; return its job id."""
        return self._json("POST", f"/batch/{operation}/uploads",
                          headers={"Idempotency-Key": idempotency_key})["jobId"]

    def put_part(self, job_id: int, number: int, body: Callable[[], Iterable[bytes]],
                 content_type: str) -> dict:
        """Store part ``number`` of an open upload, its bytes from ``body()``; return the
        service's account of it (records, bytes, sha256)."""
        return self._json("PUT", f"/batch/{job_id}/parts/{number}", body=body,
                          headers={"Content-Type": content_type})

    def parts(self, job_id: int) -> dict:
        """Return the upload's status and the parts it holds."""
        return self._json("GET", f"/batch/{job_id}/parts")

    def close_upload(self, job_id: int) -> dict:
        """Close an upload: its records are numbered and its job queued."""
        return self._json("POST", f"/batch/{job_id}/close")

    def entries(self, job_id: int, side: str) -> Iterator[dict]:
        """Yield every entry of a job's ``side`` (failed, successful, unprocessed), in index
        order, from one streamed NDJSON answer."""
        with self.http.stream("GET", f"/batch/{job_id}/{side}",
                              headers={"Accept": "application/x-ndjson"}) as response:
            if response.status_code != 200:
                response.read()
                raise ApiError(response, error_message(response))
            for line in response.iter_lines():
                if line:
                    yield orjson.loads(line)

    def outcomes(self, job_id: str, side: str) -> Iterator[dict]:
        """Yield all of the job's outcomes of ``side`` ("failed" or "successful")."""
        params: dict[str, Any] = {"limit": 1000}
        while True:
            page = self._json("GET", f"/batch/{job_id}/{side}", params=params)
            yield from page[side]
            if not page["nextCursor"]:
                return
            params["cursor"] = page["nextCursor"]

    def _json(self, method: str, path: str, **kwargs: Any) -> dict:
        response = self.request(method, path, **kwargs)
        if response.status_code != 200:
            raise ApiError(response, error_message(response))
        return response.json()


def error_message(response: httpx.Response) -> str:
    """Return the service's error message, or the status line if the body has none."""
    try:
        body = response.json()
        return f"HTTP {response.status_code}: {body['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code} {response.reason_phrase}"


def _json_body(records: list[Any]) -> bytes:
    return orjson.dumps({"body": records})
