"""Streamed bulk uploads, in-process: how they are stored, refused, replayed and applied."""

from __future__ import annotations

import orjson
import pytest

from tests.support.bulk import ndjson, upload
from tests.support.factories import customer, customers
from workers import engine


@pytest.fixture
def keys(make_tenant):
    tenant_id, pair = make_tenant()
    return tenant_id, {"APIKey": pair.api_key, "SecretKey": pair.secret_key}


def rows(db, query: str, job_id: int) -> list[tuple]:
    return db.execute(query, (job_id,)).fetchall()


def apply_all(services, job_id: int) -> dict:
    """Start the job and apply all its chunks, as the workers would; return its figures."""
    engine.start_job(services, job_id)
    with services.db.transaction() as conn:
        chunk_count = conn.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s",
                                   (job_id,)).fetchone()[0]
    for chunk_no in range(chunk_count):
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        return conn.execute("SELECT status, finished_count, error_count FROM batch_jobs"
                            " WHERE id = %s", (job_id,)).fetchone()


def test_an_ndjson_upload_is_committed_as_blocks_of_chunk_size_lines(app, keys, db):
    tenant_id, headers = keys
    body = ndjson(customers(5, prefix="blk")).replace(b"\n", b"\n\n", 1)  # a blank line too
    answer = upload(app.test_client(), headers, body)
    assert answer.status_code == 200, answer.text
    job_id = answer.get_json()["jobId"]
    assert answer.get_json()["status"] == "queued"

    assert rows(db, "SELECT status, total_count, bulk FROM batch_jobs WHERE id = %s",
                job_id) == [("queued", 5, True)]
    assert rows(db, "SELECT part_no, format, record_count, byte_count FROM batch_parts"
                    " WHERE job_id = %s", job_id) == [(1, "ndjson", 5, len(body))]
    assert rows(db, "SELECT block_no, line_count FROM batch_record_blocks WHERE job_id = %s"
                    " ORDER BY block_no", job_id) == [(0, 2), (1, 2), (2, 1)]
    assert rows(db, "SELECT chunk_no, first_index, record_count, block_no FROM batch_chunks"
                    " WHERE job_id = %s ORDER BY chunk_no", job_id) == [
        (0, 0, 2, 0), (1, 2, 2, 1), (2, 4, 1, 2)]


def test_every_line_gets_its_outcome_at_its_index(app, keys):
    _, headers = keys
    lines = [orjson.dumps(customer("ok-0")), b'{"customerId": "broken"', orjson.dumps(
        {"customerId": "bad-2", "gender": "X"}), b"[1, 2]", orjson.dumps(customer("ok-4"))]
    job_id = upload(app.test_client(), headers, b"\n".join(lines)).get_json()["jobId"]
    services = app.extensions["batchq"]
    assert apply_all(services, job_id) == ("completed", 2, 3)

    body = app.test_client().get(f"/api/v4.0/integrations/batch/{job_id}", headers=headers)
    outcomes = body.get_json()["response"]
    assert [s["index"] for s in outcomes["successful"]] == [0, 4]
    failed = {f["index"]: (f["customerId"], f["code"]) for f in outcomes["failed"]}
    assert failed == {1: (None, 3016), 2: ("bad-2", 3003), 3: (None, 3003)}
    assert outcomes["failed"][0]["error"].startswith("record: Not valid JSON: ")


def test_a_csv_upload_builds_records_from_its_header(app, keys, db):
    tenant_id, headers = keys
    body = ("customerId,email,guest,tags,custom.tier\n"
            "csv-0,a@example.com,true,vip;news,gold\n"
            "csv-1,a@example.com,false\n"             # one cell short
            '"csv-2","b@example.com",false,"",1\n').encode()
    job_id = upload(app.test_client(), headers, body, "text/csv").get_json()["jobId"]
    assert apply_all(app.extensions["batchq"], job_id) == ("completed", 2, 1)
    profiles = dict(db.execute("SELECT customer_id, profile FROM customers WHERE tenant_id = %s",
                               (tenant_id,)).fetchall())
    assert profiles["csv-0"] == {"email": "a@example.com", "guest": True,
                                 "tags": ["vip", "news"], "custom": {"tier": "gold"}}
    assert profiles["csv-2"]["custom"] == {"tier": 1} and "csv-1" not in profiles


def test_an_upload_past_its_bounds_stores_nothing(make_app, keys, db):
    tenant_id, headers = keys
    app = make_app(BULK_MAX_RECORDS="3", BULK_MAX_BYTES="2048")
    too_many = upload(app.test_client(), headers, ndjson(customers(4)))
    assert (too_many.status_code, too_many.get_json()["code"]) == (422, 3011)
    too_large = upload(app.test_client(), headers, b'{"customerId": "x"}\n' * 200)
    assert (too_large.status_code, too_large.get_json()["code"]) == (413, 4013)
    empty = upload(app.test_client(), headers, b"\n \n")
    assert (empty.status_code, empty.get_json()["code"]) == (400, 3016)
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (tenant_id,)).fetchone()[0] == 0


def test_a_tenant_has_at_most_bulk_max_active_jobs(make_app, keys):
    _, headers = keys
    app = make_app(BULK_MAX_ACTIVE_JOBS="1")
    first = upload(app.test_client(), headers, ndjson(customers(1, prefix="cap-a")))
    assert first.status_code == 200
    refused = upload(app.test_client(), headers, ndjson(customers(1, prefix="cap-b")))
    assert (refused.status_code, refused.get_json()["code"]) == (429, 4029)
    assert refused.headers["Retry-After"] == "30"
    assert "BULK_MAX_ACTIVE_JOBS" in refused.get_json()["message"]
    # A request's job is not a bulk job: it is never counted.
    json_job = app.test_client().post("/api/v4.0/integrations/batch/customers",
                                      json={"body": customers(1)}, headers=headers)
    assert json_job.status_code == 200

    apply_all(app.extensions["batchq"], first.get_json()["jobId"])
    assert upload(app.test_client(), headers, ndjson(customers(1))).status_code == 200


def test_an_upload_sent_again_with_its_idempotency_key_is_the_same_job(app, keys, db):
    tenant_id, headers = keys
    body = ndjson(customers(3, prefix="idem"))
    keyed = {**headers, "Idempotency-Key": "upload-1"}
    first = upload(app.test_client(), keyed, body)
    again = upload(app.test_client(), keyed, body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["jobId"] == first.get_json()["jobId"]
    other = upload(app.test_client(), keyed, body + b'{"customerId": "more"}\n')
    assert (other.status_code, other.get_json()["code"]) == (422, 4022)
    assert db.execute("SELECT count(*) FROM batch_parts p JOIN batch_jobs j ON j.id = p.job_id"
                      " WHERE j.tenant_id = %s", (tenant_id,)).fetchone()[0] == 1


def test_an_upload_in_another_charset_is_refused(app, keys):
    _, headers = keys
    answer = upload(app.test_client(), headers, b"customerId\n1\n",
                    "text/csv; charset=latin-1")
    assert (answer.status_code, answer.get_json()["code"]) == (415, 3013)


def test_records_that_are_ids_come_as_json_strings_or_a_key_column(app, keys):
    _, headers = keys
    services = app.extensions["batchq"]
    lines = upload(app.test_client(), headers, b'"ORDER-404"\n{"orderId": "o"}\n',
                   operation="orders/transactions")
    rows = upload(app.test_client(), headers, b"orderId\nORDER-405\n", "text/csv",
                  operation="orders/transactions")
    for answer, expected in ((lines, {0: ("ORDER-404", 9002), 1: (None, 3003)}),
                             (rows, {0: ("ORDER-405", 9002)})):
        job_id = answer.get_json()["jobId"]
        apply_all(services, job_id)
        body = app.test_client().get(f"/api/v4.0/integrations/batch/{job_id}", headers=headers)
        failed = body.get_json()["response"]["failed"]
        assert {f["index"]: (f["orderId"], f["code"]) for f in failed} == expected
