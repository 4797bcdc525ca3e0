"""A multi-part upload over HTTP: a part cut off and sent again, parts out of order, closed,
then applied by the real worker with every record at its index across the parts."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from tests.support.bulk import ndjson
from tests.support.factories import customers
from tests.support.service import wait_until


def copying(db) -> bool:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND state = 'active' AND query LIKE 'COPY batch_record_blocks%%'"
                      ).fetchone()[0] > 0


def cut_off_part(api, base_url: str, db, job_id: int, number: int, body: bytes) -> None:
    """Send part ``number`` announcing its whole length, stop half-way while the service is
    storing it, hang up; return once its transaction has ended."""
    head = (f"PUT /api/v4.0/integrations/batch/{job_id}/parts/{number} HTTP/1.1\r\n"
            f"Host: test\r\nAPIKey: {api.api_key}\r\nSecretKey: {api.secret_key}\r\n"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {len(body)}\r\n\r\n")
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode() + body[:len(body) // 2])
        wait_until(lambda: copying(db), timeout=10, what="the part's COPY to start")
    # Its transaction has ended once the part's lock (an advisory lock) is free again.
    wait_until(lambda: db.execute("SELECT count(*) = 0 FROM pg_locks l JOIN pg_database d"
                                  " ON d.oid = l.database WHERE l.locktype = 'advisory' AND"
                                  " d.datname = current_database()").fetchone()[0],
               timeout=10, what="the cut-off part's transaction to end")


def test_a_part_cut_off_then_sent_again_and_parts_out_of_order(api, live_service, db):
    job_id = api.request("POST", "/batch/customers/uploads").json()["jobId"]
    part_two = ndjson(customers(150, prefix="mp2"))
    cut_off_part(api, live_service.base_url, db, job_id, 2, part_two)
    assert api.request("GET", f"/batch/{job_id}/parts").json()["parts"] == []

    csv_part = ("customerId,email\n"
                + "".join(f"mp1-{n},m{n}@example.com\n" for n in range(120))).encode()
    for number, body, content_type in ((2, part_two, "application/x-ndjson"),
                                       (1, csv_part, "text/csv")):
        stored = api.request("PUT", f"/batch/{job_id}/parts/{number}", data=body,
                             headers={"Content-Type": content_type})
        assert stored.status_code == 200, stored.text
    assert [p["records"] for p in api.request("GET", f"/batch/{job_id}/parts").json()["parts"]
            ] == [120, 150]
    assert api.job(job_id)["status"] == "open"

    closed = api.request("POST", f"/batch/{job_id}/close")
    assert closed.json() == {"jobId": job_id, "status": "queued", "totalCount": 270}
    done = api.wait(job_id)
    assert (done["status"], done["finishedCount"], done["errorCount"]) == ("completed", 270, 0)
    # Part 1's records first (0-119), then part 2's (120-269): what the listing pages show.
    page = api.request("GET", f"/batch/{job_id}/successful",
                       params={"limit": 2, "cursor": None}).json()["successful"]
    assert [(s["customerId"], s["index"]) for s in page] == [("mp1-0", 0), ("mp1-1", 1)]
    later = db.execute("SELECT first_index, part_no FROM batch_chunks WHERE job_id = %s"
                       " ORDER BY chunk_no", (job_id,)).fetchall()
    assert later == [(0, 1), (100, 1), (120, 2), (220, 2)]
