"""`batchq import` of a large file as one bulk job: a multi-part upload, resumed, its results."""

from __future__ import annotations

import json

import orjson

from batchq_cli.parts import PartFiles
from tests.integration.test_cli import batchq
from tests.support.bulk import ndjson
from tests.support.factories import customer, customers


def test_a_large_file_goes_as_one_job_and_its_failed_records_are_written(api, db, tmp_path):
    path = tmp_path / "people.ndjson"
    lines = ndjson(customers(3000, prefix="cli-mp")).splitlines()
    lines[9] = b'{"customerId": "cli-mp-broken",'                        # file line 10
    lines[2499] = orjson.dumps(customer("cli-mp-bad", email="not-an-email"))  # line 2500
    path.write_bytes(b"\n".join(lines) + b"\n")

    run = batchq(api, "import", "customers", str(path), "--multipart-above", "0",
                 "--part-size", "100K", "--json")
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["status"], summary["records"], summary["applied"], summary["failed"]) == (
        "completed", 3000, 2998, 2)
    assert summary["partsSent"] == len(path.read_bytes()) // (100 * 1024) + 1
    assert summary["partsKept"] == 0 and summary["unprocessedFile"] is None
    failed = [orjson.loads(line) for line in (tmp_path / "people.ndjson.failed.ndjson")
              .read_bytes().splitlines()]
    assert [(f["index"], f["line"], f["code"]) for f in failed] == [(9, 10, 3016),
                                                                    (2499, 2500, 3003)]
    assert failed[1]["record"]["customerId"] == "cli-mp-bad"
    assert db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 2998


def test_a_resumed_upload_sends_only_the_parts_the_service_lacks(api, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("customerId,email,tags\n" + "".join(
        f"cli-csv-{n},c{n}@example.com,vip;n{n}\n" for n in range(2000)))
    job_id = api.request("POST", "/batch/customers/uploads").json()["jobId"]
    # An earlier run stored parts 1 and 2 whole, and part 3 cut short (then stopped).
    with PartFiles(path, "csv", 20 * 1024) as parts:
        local = list(parts)
        for part in local[:3]:
            body = b"".join(part.chunks())
            if part.number == 3:
                body = body[:len(body) // 2].rsplit(b"\n", 1)[0] + b"\n"
            stored = api.request("PUT", f"/batch/{job_id}/parts/{part.number}", data=body,
                                 headers={"Content-Type": "text/csv"})
            assert stored.status_code == 200, stored.text

    run = batchq(api, "import", "customers", str(path), "--resume", str(job_id),
                 "--part-size", "20K", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["jobId"], summary["partsKept"], summary["partsSent"]) == (
        job_id, 2, len(local) - 2)
    assert (summary["records"], summary["applied"]) == (2000, 2000)
    stored = api.customer("cli-csv-1999").json()["customerAttributes"]
    assert stored["tags"] == ["vip", "n1999"]


def test_a_resume_with_another_split_refuses_to_close(api, tmp_path):
    path = tmp_path / "few.ndjson"
    path.write_bytes(ndjson(customers(10, prefix="cli-split")))
    job_id = api.request("POST", "/batch/customers/uploads").json()["jobId"]
    api.request("PUT", f"/batch/{job_id}/parts/7", data=b'{"customerId": "x"}\n',
                headers={"Content-Type": "application/x-ndjson"})
    run = batchq(api, "import", "customers", str(path), "--resume", str(job_id), "--json")
    assert run.returncode == 2
    assert "holds part 7" in json.loads(run.stdout)["aborted"]
    assert api.job(job_id)["status"] == "open"


def test_results_writes_a_stopped_jobs_unprocessed_records(api, paused_workers, tmp_path):
    records = customers(5, prefix="cli-unp")
    response = api.request("POST", "/batch/customers", data=ndjson(records),
                           headers={"Content-Type": "application/x-ndjson"})
    job_id = response.json()["jobId"]
    api.request("DELETE", f"/batch/{job_id}")
    out = tmp_path / "unprocessed.ndjson"
    run = batchq(api, "results", str(job_id), "--unprocessed", str(out),
                 "--failed", str(tmp_path / "failed.ndjson"))
    assert run.returncode == 0, run.stderr
    written = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [(w["index"], w["record"]) for w in written] == list(enumerate(records))
    assert not (tmp_path / "failed.ndjson").exists()
