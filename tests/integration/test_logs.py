"""Logs of the real web and worker processes: JSON lines with context, never secrets."""

from __future__ import annotations

import json
import secrets

from tests.support.factories import customer


def log_lines(live_service, process_type: str) -> list[dict]:
    """Return the JSON log lines of every process of ``process_type`` so far."""
    lines = []
    for path in sorted(live_service.log_dir.glob(f"{process_type}-*.log")):
        for raw in path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    return lines


def test_lines_carry_request_and_task_context_and_no_secrets(live_service, api):
    marker = secrets.token_hex(6)
    request_id = f"logtest-{marker}"
    records = [customer(f"log-{marker}", email=f"private-{marker}@example.com",
                        name=f"Private Person {marker}")]
    response = api.request("POST", "/batch/customers", json={"body": records},
                           headers={"X-Request-ID": request_id})
    job_id = response.json()["jobId"]
    assert api.wait(job_id)["status"] == "completed"
    api.request("GET", f"/batch/{job_id}", headers={"X-Request-ID": request_id + "-get"})

    web, worker = log_lines(live_service, "web"), log_lines(live_service, "worker")
    mine = [line for line in web if line.get("requestId") == request_id]
    assert mine, "the request left no line with its requestId"
    assert all(line.get("tenant") for line in mine)
    summary = [line for line in mine if line.get("status") == 200]
    assert summary and summary[0]["path"] == "/api/v4.0/integrations/batch/customers"
    assert any(line.get("jobId") == job_id for line in mine)
    got = [line for line in web if line.get("requestId") == request_id + "-get"]
    assert got and all(line.get("jobId") == job_id for line in got)

    # Every line about the job, web or worker, says which job (and, in a task, which task).
    about_job = [line for line in web + worker if str(job_id) in json.dumps(line)]
    assert all(line.get("jobId") == job_id for line in about_job), about_job
    in_tasks = [line for line in worker if line.get("jobId") == job_id]
    assert in_tasks and all(line.get("taskId") for line in in_tasks)
    assert any("chunk" in line for line in in_tasks)

    everything = "\n".join(path.read_text(errors="replace")
                           for path in live_service.log_dir.glob("*.log"))
    for secret in (api.secret_key, api.api_key, f"private-{marker}", f"Private Person {marker}"):
        assert secret not in everything
