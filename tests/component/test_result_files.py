"""A job's outcomes and unprocessed records as files, by Accept: NDJSON and CSV, index order."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from app.domain import stopping
from tests.support.bulk import PREFIX
from tests.support.factories import customer, customers
from tests.support.jobs import submit_upload
from workers import engine

NDJSON, CSV = "application/x-ndjson", "text/csv"


@pytest.fixture
def client(tenant_client):
    return tenant_client


@pytest.fixture
def stopped_job(app, client):
    """A bulk job of 9 records (chunks of 2), records 3 and 6 invalid, stopped after chunks 1
    and 3 were applied: 2, 3, 6 and 7 have outcomes, the others never will."""
    services = app.extensions["batchq"]
    records = customers(9, prefix="file")
    records[3] = customer("file-bad-3", email="broken")
    records[6] = customer("file-bad-6", gender="X")
    job_id = submit_upload(services, client.tenant_id, records)
    engine.start_job(services, job_id)
    for chunk_no in (1, 3):
        engine.apply_chunk(services, job_id, chunk_no)
    stopping.stop_job(services, job_id, tenant_id=client.tenant_id, by="a test")
    return job_id, records


def get(client, job_id: int, side: str, accept: str):
    return client.get(f"{PREFIX}/batch/{job_id}/{side}", headers={"Accept": accept})


def test_ndjson_files_hold_what_the_pages_hold(client, stopped_job):
    job_id, records = stopped_job
    for side, indexes in (("successful", [2, 7]), ("failed", [3, 6]),
                          ("unprocessed", [0, 1, 4, 5, 8])):
        answer = get(client, job_id, side, NDJSON)
        assert answer.status_code == 200 and answer.mimetype == NDJSON
        assert answer.headers["Content-Disposition"] == (
            f'attachment; filename="job-{job_id}-{side}.ndjson"')
        lines = [orjson.loads(line) for line in answer.data.splitlines()]
        assert [line["index"] for line in lines] == indexes
        assert lines == client.get(f"{PREFIX}/batch/{job_id}/{side}").get_json()[side]
    unprocessed = [orjson.loads(line) for line in
                   get(client, job_id, "unprocessed", NDJSON).data.splitlines()]
    assert unprocessed[0] == {"customerId": records[0]["customerId"], "index": 0,
                              "record": records[0]}


def test_csv_files_have_fixed_columns_per_side(client, stopped_job):
    job_id, records = stopped_job

    def rows(side):
        answer = get(client, job_id, side, CSV)
        assert answer.mimetype == CSV
        return list(csv.reader(io.StringIO(answer.data.decode())))

    successful, failed, unprocessed = rows("successful"), rows("failed"), rows("unprocessed")
    assert successful[0] == ["index", "customerId", "message", "details"]
    assert successful[1] == ["2", records[2]["customerId"], "Customer created successfully", ""]
    assert failed == [["index", "customerId", "code", "error"],
                      ["3", "file-bad-3", "3003", "email: Not a valid email address."],
                      ["6", "file-bad-6", "3003", "gender: Must be one of: M, F, O, Other."]]
    assert unprocessed[0] == ["index", "customerId", "record", "line"]
    assert [row[0] for row in unprocessed[1:]] == ["0", "1", "4", "5", "8"]
    assert orjson.loads(unprocessed[1][2]) == records[0] and unprocessed[1][3] == ""


def test_json_stays_the_answer_unless_a_file_is_asked_for(client, stopped_job):
    job_id, _ = stopped_job
    for accept in ("*/*", "application/json", "text/html", "application/json, text/csv;q=0.5"):
        answer = get(client, job_id, "failed", accept)
        assert answer.mimetype == "application/json", accept
        assert [e["index"] for e in answer.get_json()["failed"]] == [3, 6]


def test_a_request_jobs_unprocessed_records_come_from_its_array(app, client):
    records = customers(3, prefix="json")
    answer = client.post(f"{PREFIX}/batch/customers", json={"body": records})
    job_id = answer.get_json()["jobId"]
    client.delete(f"{PREFIX}/batch/{job_id}")  # stopped while queued: never split
    page = client.get(f"{PREFIX}/batch/{job_id}/unprocessed", query_string={"limit": 2})
    body = page.get_json()
    assert [e["record"] for e in body["unprocessed"]] == records[:2]
    rest = client.get(f"{PREFIX}/batch/{job_id}/unprocessed",
                      query_string={"cursor": body["nextCursor"]}).get_json()
    assert [e["index"] for e in rest["unprocessed"]] == [2] and rest["nextCursor"] is None
