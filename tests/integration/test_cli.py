"""The `batchq` CLI end to end: the installed command against the live service."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.client import ApiClient
from tests.support.factories import customer
from tests.support.service import running_service, service_environment

BATCHQ = str(Path(sys.executable).parent / "batchq")


def batchq(api, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the installed `batchq` as a user would, configured by the environment."""
    env = {**os.environ, "BATCHQ_URL": api.base_url, "BATCHQ_API_KEY": api.api_key,
           "BATCHQ_SECRET_KEY": api.secret_key}
    return subprocess.run([BATCHQ, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def stored(db, tenant_id: int, prefix: str) -> int:
    return db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s AND customer_id LIKE %s",
                      (tenant_id, prefix + "%")).fetchone()[0]


@pytest.fixture(scope="module")
def bulk_service(database_url, redis_url, tmp_path_factory):
    """A web process and workers tuned for one big import: chunks of a whole request (each
    chunk reads its job's records once), on queues of their own that no other worker takes."""
    env = service_environment(database_url, redis_url, CHUNK_SIZE="1000", CELERY_QUEUE="cli",
                              BULK_QUEUE="cli-bulk", WEBHOOK_QUEUE="cli-callbacks")
    with running_service(env, tmp_path_factory.mktemp("bulk-logs")) as service:
        yield service


@pytest.fixture
def bulk_api(bulk_service, make_tenant) -> ApiClient:
    tenant_id, pair = make_tenant()
    return ApiClient(bulk_service.base_url, pair.api_key, pair.secret_key, tenant_id)


def test_import_100000_lines(bulk_api, db, tmp_path):
    api = bulk_api
    path = tmp_path / "customers.ndjson"
    bad = {}  # line number -> expected error
    with path.open("wb") as file:
        for line in range(1, 100_001):
            record = customer(f"big-{line:06d}")
            if line % 10_000 == 0:
                record["email"] = "not-an-email"
                bad[line] = "email: Not a valid email address."
            if line in (3, 77_777):
                file.write(b'{"customerId": "broken",\n')
                bad[line] = "record: Not valid JSON"
                continue
            file.write(orjson.dumps(record) + b"\n")

    # As requests of 1,000 records (a file this size would otherwise go as one bulk job).
    run = batchq(api, "import", "customers", str(path), "--json", "--multipart-above", "1G")
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert summary["records"] == 100_000
    assert (summary["submitted"], summary["jobs"]) == (99_998, 100)
    assert (summary["applied"], summary["failed"]) == (99_988, 12)
    assert stored(db, api.tenant_id, "big-") == 99_988

    failed = [orjson.loads(line) for line in Path(summary["failedFile"]).read_bytes().splitlines()]
    assert Path(summary["failedFile"]) == tmp_path / "customers.ndjson.failed.ndjson"
    assert sorted(f["line"] for f in failed) == sorted(bad)
    for entry in failed:
        assert entry["error"].startswith(bad[entry["line"]])
        if entry["line"] % 10_000 == 0:
            assert entry["record"]["customerId"] == f"big-{entry['line']:06d}"


def test_csv_and_json_files_import_cleanly(api, db, tmp_path):
    rows = tmp_path / "people.csv"
    with rows.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["customerId", "email", "tags", "guest", "custom.points"])
        writer.writerow(["csv-1", "one@example.com", "vip;newsletter", "true", "1500"])
        writer.writerow(["csv-2", "", "", "false", ""])
    run = batchq(api, "import", "customers", str(rows))
    assert run.returncode == 0, run.stderr
    assert "2 records, 2 submitted in 1 jobs, 2 applied, 0 failed" in run.stderr
    assert not (tmp_path / "people.csv.failed.ndjson").exists()
    one = api.customer("csv-1").json()
    attributes = one["customerAttributes"]
    assert (attributes["tags"], one["guest"], attributes["custom"]) == (
        ["vip", "newsletter"], True, {"points": 1500})

    envelope = tmp_path / "export.json"
    envelope.write_bytes(orjson.dumps({"body": [customer(f"json-{n}") for n in range(2500)]}))
    run = batchq(api, "import", "customers", str(envelope), "--batch-size", "1000", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["jobs"] == 3
    assert stored(db, api.tenant_id, "json-") == 2500


def test_status_and_stop(api, paused_workers):
    job_id = str(api.submit([customer("cli-stop")]))
    shown = batchq(api, "status", job_id)
    assert shown.returncode == 0 and f"{job_id}  queued  0 applied, 0 failed of 1" in shown.stdout
    stopped = batchq(api, "stop", job_id, "--json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout) == api.job(job_id)
    assert api.job(job_id)["status"] == "stopped"
    unknown = batchq(api, "status", "no-such-job")
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr


def test_wrong_keys_stop_the_run(api, tmp_path):
    path = tmp_path / "few.ndjson"
    path.write_bytes(b'{"customerId": "k1"}\n')
    env_keys = ["--api-key", "ak_wrong", "--secret-key", "sk_wrong"]
    run = batchq(api, *env_keys, "import", "customers", str(path))
    assert run.returncode == 2
    assert "HTTP 401" in run.stderr
