"""One side of a job's outcomes, paginated: /batch/{jobId}/failed and /successful."""

from __future__ import annotations

import pytest

from tests.support.factories import customers


def read_all(api, job_id: str, side: str, limit: int) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.request("GET", f"/batch/{job_id}/{side}", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["jobId"] == job_id and body["status"] == "completed"
        assert len(body[side]) <= limit
        items += body[side]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return items, pages


def test_pages_match_the_status_body(api, other_api):
    records = customers(250, prefix="res")  # three chunks of 100, 100 and 50
    for i in range(5, 250, 20):
        records[i]["gender"] = "X"
    job_id = api.submit(records)
    status = api.wait(job_id)

    failed, pages = read_all(api, job_id, "failed", limit=4)
    assert failed == status["response"]["failed"]
    assert len(failed) == 13 and pages == 4
    successful, _ = read_all(api, job_id, "successful", limit=100)
    assert successful == status["response"]["successful"]
    assert [s["index"] for s in successful] == sorted(set(range(250)) - set(range(5, 250, 20)))

    assert other_api.request("GET", f"/batch/{job_id}/failed").status_code == 404
    assert api.request("GET", "/batch/nosuchjob/successful").status_code == 404


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "1001"}, {"cursor": "zzz"},
                                    {"cursor": "WyJhIl0"}])
def test_bad_page_parameters_answer_400(api, params):
    job_id = api.submit(customers(1))
    response = api.request("GET", f"/batch/{job_id}/failed", params=params)
    assert response.status_code == 422 and response.json()["code"] == 3003


def test_a_queued_job_has_no_outcomes_yet(api, paused_workers):
    job_id = api.submit(customers(2))
    body = api.request("GET", f"/batch/{job_id}/successful").json()
    assert body == {"jobId": job_id, "status": "queued", "successful": [], "nextCursor": None}
