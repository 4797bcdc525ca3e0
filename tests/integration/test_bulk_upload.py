"""A streamed bulk upload over HTTP, applied by the real worker; a cut-off one stores nothing."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import orjson

from tests.support.bulk import ndjson
from tests.support.factories import customers
from tests.support.service import wait_until


def stream(body: bytes, piece: int = 1000):
    """The body in pieces, so that requests sends it chunked, as a client streaming a file."""
    for start in range(0, len(body), piece):
        yield body[start:start + piece]


def test_an_ndjson_upload_streamed_in_pieces_applies_every_good_line(api, db):
    records = customers(250, prefix="up")  # three chunks of 100, 100 and 50
    lines = ndjson(records).splitlines()
    lines[7] = b'{"customerId": "up-broken",'           # not JSON
    lines[120] = orjson.dumps({"customerId": "up-x", "gender": "X"})
    response = api.request("POST", "/batch/customers", data=stream(b"\n".join(lines) + b"\n"),
                           headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    job_id = response.json()["jobId"]

    done = api.wait(job_id)
    assert (done["status"], done["totalCount"], done["finishedCount"], done["errorCount"]) == (
        "completed", 250, 248, 2)
    failed = {f["index"]: f["code"] for f in done["response"]["failed"]}
    assert failed == {7: 3016, 120: 3003}
    assert db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 248


def test_a_csv_upload_maps_its_columns(api):
    body = ("customerId,email,custom.tier,tags\n"
            + "".join(f"csv-{n},c{n}@example.com,gold,vip;n{n}\n" for n in range(5))
            + "csv-bad,not-an-email,,\n").encode()
    response = api.request("POST", "/batch/customers", data=body,
                           headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    done = api.wait(response.json()["jobId"])
    assert (done["finishedCount"], done["errorCount"]) == (5, 1)
    assert done["response"]["failed"][0]["index"] == 5
    stored = api.customer("csv-3").json()["customerAttributes"]
    assert (stored["custom"], stored["tags"]) == ({"tier": "gold"}, ["vip", "n3"])


def test_an_upload_cut_off_mid_way_stores_nothing(api, live_service, db):
    head = (f"POST /api/v4.0/integrations/batch/customers HTTP/1.1\r\nHost: test\r\n"
            f"APIKey: {api.api_key}\r\nSecretKey: {api.secret_key}\r\n"
            "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    piece = ndjson(customers(300, prefix="cut"))
    url = urlsplit(live_service.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(piece), piece))
        # Its blocks are being written: three chunks' worth arrived, the body goes on...
        wait_until(lambda: copying(db), timeout=10, what="the upload's COPY to start")
    # ...and the client is gone without the last chunk.
    wait_until(lambda: not copying(db), timeout=10, what="the upload's transaction to end")
    # No job, hence no part nor block (they belong to a job): the transaction never committed.
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 0


def copying(db) -> bool:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND state = 'active' AND query LIKE 'COPY batch_record_blocks%%'"
                      ).fetchone()[0] > 0
