"""Multi-part uploads, in-process: parts in any order, a part replaced, close, discard."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from app.store import uploads
from tests.support.bulk import PREFIX, ndjson
from tests.support.factories import customers
from tests.support.jobs import sent
from workers import retention


@pytest.fixture
def client(tenant_client):
    return tenant_client


def open_upload(client, operation: str = "customers") -> int:
    answer = client.post(f"{PREFIX}/batch/{operation}/uploads")
    assert answer.status_code == 200, answer.text
    assert answer.get_json()["status"] == "open"
    return answer.get_json()["jobId"]


def put(client, job_id: int, number: int | str, body: bytes,
        content_type: str = "application/x-ndjson"):
    return client.put(f"{PREFIX}/batch/{job_id}/parts/{number}", data=body,
                      content_type=content_type)


def test_parts_in_any_order_are_numbered_in_part_order_when_closed(client, db):
    job_id = open_upload(client)
    second = ndjson(customers(3, prefix="p2"))
    first = b"customerId,email\np1-0,a@example.com\np1-1,b@example.com\n"
    stored = put(client, job_id, 2, second)
    assert stored.status_code == 200, stored.text
    assert stored.get_json() == {"jobId": job_id, "part": 2, "format": "ndjson", "records": 3,
                                 "bytes": len(second),
                                 "sha256": hashlib.sha256(second).hexdigest()}
    assert put(client, job_id, 1, first, "text/csv").status_code == 200

    listed = client.get(f"{PREFIX}/batch/{job_id}/parts").get_json()
    assert listed["status"] == "open"
    assert [(p["part"], p["format"], p["records"]) for p in listed["parts"]] == [
        (1, "csv", 2), (2, "ndjson", 3)]

    closed = client.post(f"{PREFIX}/batch/{job_id}/close")
    assert closed.get_json() == {"jobId": job_id, "status": "queued", "totalCount": 5}
    # CHUNK_SIZE 2: part 1 is one block, part 2 two; indexes run on across the parts.
    assert db.execute("SELECT chunk_no, first_index, record_count, part_no, block_no"
                      " FROM batch_chunks WHERE job_id = %s ORDER BY chunk_no",
                      (job_id,)).fetchall() == [(0, 0, 2, 1, 0), (1, 2, 2, 2, 0),
                                                (2, 4, 1, 2, 1)]
    again = client.post(f"{PREFIX}/batch/{job_id}/close")
    assert again.status_code == 200 and again.get_json()["totalCount"] == 5
    late = put(client, job_id, 3, ndjson(customers(1)))
    assert (late.status_code, late.get_json()["code"]) == (409, 4009)


def test_a_part_sent_again_replaces_the_first_whole(client, db):
    job_id = open_upload(client)
    put(client, job_id, 1, ndjson(customers(5, prefix="old")))
    replaced = put(client, job_id, 1, ndjson(customers(1, prefix="new")))
    assert replaced.get_json()["records"] == 1
    assert db.execute("SELECT count(*), sum(line_count) FROM batch_record_blocks"
                      " WHERE job_id = %s", (job_id,)).fetchone() == (1, 1)
    assert client.post(f"{PREFIX}/batch/{job_id}/close").get_json()["totalCount"] == 1


def test_what_a_part_request_may_not_be(client):
    job_id = open_upload(client)
    for number, body, content_type, expected in [
            (0, b"{}\n", "application/x-ndjson", (422, 3003)),
            (10_001, b"{}\n", "application/x-ndjson", (422, 3003)),
            ("one", b"{}\n", "application/x-ndjson", (422, 3003)),
            (1, b"{}\n", "application/json", (415, 3013)),
            (1, b"a,a\n1,2\n", "text/csv", (400, 3016))]:
        answer = put(client, job_id, number, body, content_type)
        assert (answer.status_code, answer.get_json()["code"]) == expected, (number, answer.text)
    empty = client.post(f"{PREFIX}/batch/{job_id}/close")
    assert (empty.status_code, empty.get_json()["code"]) == (400, 3016)
    assert put(client, 4242, 1, b"{}\n").status_code == 404


def test_an_open_upload_reads_as_open_and_a_delete_discards_it(client, db):
    job_id = open_upload(client)
    put(client, job_id, 1, ndjson(customers(2)))
    body = client.get(f"{PREFIX}/batch/{job_id}").get_json()
    assert (body["status"], body["totalCount"], body["response"]) == ("open", 0, None)
    document = client.get(f"{PREFIX}/batches/{job_id}/status").get_json()
    assert (document["status"], document["progress"]) == ("pending", 0)

    discarded = client.delete(f"{PREFIX}/batch/{job_id}")
    assert discarded.status_code == 200 and discarded.get_json()["status"] == "stopped"
    assert db.execute("SELECT count(*) FROM batch_parts WHERE job_id = %s",
                      (job_id,)).fetchone()[0] == 0
    closed = client.post(f"{PREFIX}/batch/{job_id}/close")
    assert (closed.status_code, closed.get_json()["code"]) == (409, 4009)
    assert client.get(f"{PREFIX}/batch/{job_id}").get_json()["status"] == "stopped"


def test_open_uploads_count_against_the_active_bulk_jobs(make_app, make_tenant):
    _, pair = make_tenant()
    client = make_app(BULK_MAX_ACTIVE_JOBS="1").test_client()
    headers = {"APIKey": pair.api_key, "SecretKey": pair.secret_key}
    assert client.post(f"{PREFIX}/batch/customers/uploads", headers=headers).status_code == 200
    refused = client.post(f"{PREFIX}/batch/events/uploads", headers=headers)
    assert (refused.status_code, refused.get_json()["code"]) == (429, 4029)


def test_two_requests_never_store_the_same_part_at_once(database_url, client):
    job_id = open_upload(client)
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        uploads.lock_part(first, job_id, 1)
        with pytest.raises(uploads.PartBusy):
            uploads.lock_part(second, job_id, 1)
        uploads.lock_part(second, job_id, 2)  # another part is free


def test_an_upload_left_open_too_long_is_discarded(make_services, client, db):
    job_id = open_upload(client)
    put(client, job_id, 1, ndjson(customers(1)))
    db.execute("UPDATE batch_jobs SET created_at = now() - interval '25 hours' WHERE id = %s",
               (job_id,))
    assert retention.discard_expired_uploads(make_services()) >= 1
    assert db.execute("SELECT status FROM batch_jobs WHERE id = %s", (job_id,)).fetchone() == (
        "stopped",)
    assert db.execute("SELECT count(*) FROM batch_parts WHERE job_id = %s",
                      (job_id,)).fetchone()[0] == 0


def test_a_discarded_upload_sends_its_webhook_as_a_stopped_job(app, client):
    services = app.extensions["batchq"]
    answer = client.post(f"{PREFIX}/batch/customers/uploads",
                         query_string={"callbackUrl": "https://example.com/hook"})
    job_id = answer.get_json()["jobId"]
    assert sent(services, services.config.WEBHOOK_QUEUE) == []
    assert client.delete(f"{PREFIX}/batch/{job_id}").get_json()["status"] == "stopped"
    assert sent(services, services.config.WEBHOOK_QUEUE) == [("batch.deliver_callback",
                                                              [job_id])]
