"""Listing a tenant's jobs: newest first, filtered, paged by an opaque cursor."""

from __future__ import annotations

import pytest

from tests.support.factories import customer


def listing(api, **params) -> dict:
    response = api.request("GET", "/batch", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_pages_newest_first_and_only_the_tenants_own(api, other_api):
    other_api.submit([customer("someone-else")])
    ids = [api.submit([customer(f"list-{n}")]) for n in range(5)]
    for job_id in ids:
        api.wait(job_id)

    seen, cursor, pages = [], None, 0
    while True:
        page = listing(api, limit=2, **({"cursor": cursor} if cursor else {}))
        pages += 1
        seen += [job["jobId"] for job in page["jobs"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    assert pages == 3

    first = listing(api, limit=1)["jobs"][0]
    assert first == {k: v for k, v in api.job(ids[-1]).items() if k != "response"}


def test_filters_by_status_operation_and_creation_time(api, paused_workers):
    queued = api.submit([customer("filter-queued")])
    stopped = api.submit([customer("filter-stopped")])
    assert api.request("DELETE", f"/batch/{stopped}").status_code == 200

    assert [j["jobId"] for j in listing(api, status="queued")["jobs"]] == [queued]
    assert [j["jobId"] for j in listing(api, status="stopped")["jobs"]] == [stopped]
    assert listing(api, status="completed")["jobs"] == []
    assert len(listing(api, operation="customers")["jobs"]) == 2
    after = api.job(queued)["createdAt"]
    assert [j["jobId"] for j in listing(api, createdAfter=after)["jobs"]] == [stopped]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"status": "done"}, "status"),
    ({"operation": "loyalty"}, "operation"),
    ({"createdAfter": "yesterday"}, "createdAfter"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "WzEsMl0"}, "cursor"),  # base64 of [1,2]: well formed, not ours
    ({"sort": "asc"}, "sort"),
])
def test_bad_parameters_answer_400_naming_them(api, params, field):
    response = api.request("GET", "/batch", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == 3003 and field in body["errors"]
    assert field in body["message"]


def test_listing_requires_keys(live_service):
    import requests

    response = requests.get(f"{live_service.base_url}/api/v4.0/integrations/batch", timeout=10)
    assert response.status_code == 401 and response.json()["code"] == 1001
