"""An HTTP client for the batch API as a tenant sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.support.service import wait_until

PREFIX = "/api/v4.0/integrations"
FINAL = ("completed", "failed", "stopped")


@dataclass
class ApiClient:
    """One tenant's view of the API."""

    base_url: str
    api_key: str
    secret_key: str
    tenant_id: int

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers.update({"APIKey": self.api_key, "SecretKey": self.secret_key})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request to ``PREFIX + path`` with this tenant's keys."""
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.base_url}{PREFIX}{path}", **kwargs)

    def submit(self, records: list, operation: str = "customers") -> int:
        """POST ``records``; require a 200 with an integer job id, and return it."""
        response = self.request("POST", f"/batch/{operation}", json={"body": records})
        assert response.status_code == 200, response.text
        job_id = response.json()["jobId"]
        assert type(job_id) is int and 0 < job_id < 2**53, job_id
        return job_id

    def job(self, job_id: int | str) -> dict:
        """GET the job's status body; require a 200."""
        response = self.request("GET", f"/batch/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, job_id: int | str, statuses: tuple[str, ...] = FINAL, timeout: float = 60) -> dict:
        """Poll the job until its status is one of ``statuses``; return the body."""
        def reached():
            body = self.job(job_id)
            return body if body["status"] in statuses else None
        return wait_until(reached, timeout=timeout, interval=0.05, what=f"job {job_id} to be {statuses}")

    def customer(self, customer_id: str) -> requests.Response:
        """GET one customer."""
        return self.request("GET", f"/customers/{customer_id}")
