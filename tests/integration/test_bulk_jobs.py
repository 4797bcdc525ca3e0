"""Bulk jobs on the real workers: a stop mid-way leaves exactly the unapplied records listed,
and neither another tenant's bulk job nor an interactive job waits for a bulk job's end."""

from __future__ import annotations

import orjson

from tests.support.bulk import ndjson
from tests.support.client import ApiClient
from tests.support.factories import customer, customers
from tests.support.stops import stop_while_parked


def upload(api, records: list[dict]) -> int:
    response = api.request("POST", "/batch/customers", data=ndjson(records),
                           headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    return response.json()["jobId"]


def read_all(api, job_id: int, side: str) -> list[dict]:
    entries, cursor = [], None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", f"/batch/{job_id}/{side}", params=params).json()
        entries += page[side]
        cursor = page["nextCursor"]
        if cursor is None:
            return entries


def test_a_bulk_job_stopped_mid_way_lists_exactly_the_records_it_never_applied(
        api, db, database_url):
    job_id, records, answer = stop_while_parked(api, db, database_url, "bulk",
                                                 lambda records: upload(api, records))
    stopped = answer.json()
    assert stopped["status"] == "stopped" and stopped["errorCount"] == 0
    applied = stopped["finishedCount"]
    assert len(stopped["response"]["successful"]) == applied  # 1,000 records: listed inline
    assert applied >= 400 and applied % 100 == 0

    api.wait(api.submit([customer("bulk-after")]))  # the workers drained what was queued
    successful = read_all(api, job_id, "successful")
    unprocessed = read_all(api, job_id, "unprocessed")
    assert len(successful) == applied and read_all(api, job_id, "failed") == []
    assert sorted(e["index"] for e in successful + unprocessed) == list(range(1000))
    assert all(e["record"] == records[e["index"]] for e in unprocessed)
    streamed = api.request("GET", f"/batch/{job_id}/unprocessed",
                           headers={"Accept": "application/x-ndjson"})
    assert [orjson.loads(line) for line in streamed.content.splitlines()] == unprocessed
    assert {e["customerId"] for e in unprocessed} == {records[e["index"]]["customerId"]
                                                      for e in unprocessed}
    # Nothing was applied after the answer: what is stored is exactly what was applied.
    stored = {row[0] for row in db.execute(
        "SELECT customer_id FROM customers WHERE tenant_id = %s AND customer_id LIKE 'bulk-0%%'",
        (api.tenant_id,))}
    assert stored == {e["customerId"] for e in successful} - {"bulk-block-2", "bulk-block-3"}
    assert api.job(job_id)["finishedCount"] == applied


def test_neither_another_bulk_job_nor_an_interactive_one_waits_for_a_bulk_job(
        api, other_api, live_service, make_tenant, db, paused_workers):
    # Queued while the workers take nothing, so that every job starts from the same moment
    # whatever the machine's speed: two bulk jobs first, the interactive one last.
    first = upload(api, customers(5000, prefix="fair-a"))  # 50 chunks of 100
    second = upload(other_api, customers(5000, prefix="fair-b"))
    tenant_id, pair = make_tenant()
    third = ApiClient(live_service.base_url, pair.api_key, pair.secret_key, tenant_id)
    interactive = third.submit(customers(1000, prefix="fair-c"))
    paused_workers()  # resume

    assert third.wait(interactive)["status"] == "completed"
    done = api.wait(first, timeout=120)
    assert (done["status"], done["finishedCount"]) == ("completed", 5000)
    # More records than a request holds: the outcomes are files, not in the status body.
    assert done["response"] is None
    assert done["resultFiles"]["failed"] == f"/api/v4.0/integrations/batch/{first}/failed"
    assert other_api.wait(second, timeout=120)["status"] == "completed"
    # When the interactive job completed, the first bulk job had most of its chunks to go:
    # it took turns with the bulk jobs' chunks instead of waiting for their end.
    later = db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s AND done_at >"
                       " (SELECT finished_at FROM batch_jobs WHERE id = %s)",
                       (first, interactive)).fetchone()[0]
    assert later >= 25, later
    # And the second bulk job took turns with the first instead of waiting for its end.
    overlap = db.execute("SELECT count(*) FROM batch_chunks WHERE job_id = %s AND done_at >"
                         " (SELECT min(done_at) FROM batch_chunks WHERE job_id = %s)",
                         (first, second)).fetchone()[0]
    assert overlap >= 15, overlap
