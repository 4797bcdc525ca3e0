"""The customers batch operation end to end: HTTP API, Celery worker, PostgreSQL, Redis."""

from __future__ import annotations

import random

import psycopg
import pytest

from app.store import tenants
from schemas.customers import StoredCustomerSchema
from schemas.jobs import JobStatusSchema
from tests.support.brokers import on_both_brokers
from tests.support.factories import SEED_REQUEST, customer, customers

STATUS_FIELDS = {"jobId", "operation", "errorCount", "totalCount", "finishedCount", "startedAt",
                 "createdAt", "finishedAt", "status", "response"}


def assert_status_body(body: dict) -> None:
    """The body has exactly the documented fields, in the documented shape."""
    assert set(body) == STATUS_FIELDS
    assert JobStatusSchema().validate(body) == {}
    for stamp in ("createdAt", "startedAt", "finishedAt"):
        assert body[stamp] is None or body[stamp].endswith("Z")


def stored_customer_ids(db, tenant_id: int) -> set[str]:
    rows = db.execute("SELECT customer_id FROM customers WHERE tenant_id = %s", (tenant_id,))
    return {row[0] for row in rows}


def test_seed_example_creates_then_updates(api):
    response = api.request("POST", "/batch/customers", data=SEED_REQUEST,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    created = response.json()
    assert set(created) == {"jobId", "status"} and created["status"] == "queued"
    assert response.headers["Location"] == f"/api/v4.0/integrations/batch/{created['jobId']}"

    body = api.wait(created["jobId"])
    assert_status_body(body)
    assert body["operation"] == "Customer Creation Batch Job"
    assert (body["status"], body["totalCount"], body["finishedCount"], body["errorCount"]) == (
        "completed", 2, 2, 0)
    assert body["response"] == {"successful": [
        {"customerId": "12345", "index": 0, "message": "Customer created successfully"},
        {"customerId": "67890", "index": 1, "message": "Customer created successfully"},
    ], "failed": []}
    assert body["startedAt"] >= body["createdAt"] and body["finishedAt"] >= body["startedAt"]

    john = api.customer("12345").json()
    assert StoredCustomerSchema().validate(john) == {}
    assert set(john) == {"customerId", "gameballId", "email", "customerAttributes", "createdAt",
                         "updatedAt"}
    assert (john["customerId"], john["email"]) == ("12345", "john.doe@example.com")
    assert john["customerAttributes"] == {
        "email": "john.doe@example.com", "name": "John Doe", "gender": "M",
        "dateOfBirth": "1990-01-01", "joinDate": "2022-01-01",
        "tags": ["vip", "newsletter_subscriber"],
        "custom": {"favorite_color": "blue", "loyalty_points": 1500}}
    jane = api.customer("67890").json()
    assert jane["customerAttributes"]["custom"] == {"favorite_color": "green",
                                                    "loyalty_points": 2000}
    assert type(john["gameballId"]) is int and john["gameballId"] != jane["gameballId"]

    again = api.request("POST", "/batch/customers", data=SEED_REQUEST,
                        headers={"Content-Type": "application/json"})
    body = api.wait(again.json()["jobId"])
    assert [s["message"] for s in body["response"]["successful"]] == [
        "Customer updated successfully"] * 2
    assert api.customer("12345").json()["gameballId"] == john["gameballId"]  # stable


@on_both_brokers
def test_thousand_records_with_invalid_ones_get_exact_outcomes(api, db):
    records = customers(1000, prefix="mix")
    expected_errors = {}
    for i in range(3, 1000, 50):
        records[i]["email"] = "not-an-email"
        expected_errors[i] = "email: Not a valid email address."
    for i in range(11, 1000, 100):
        records[i]["gender"] = "X"
        expected_errors[i] = "gender: Must be one of: M, F, O, Other."
    for i in (27, 427):
        records[i]["dateOfBirth"] = "1990-02-30"
        expected_errors[i] = "dateOfBirth: Not a valid date; expected a real date as YYYY-MM-DD."
    records[500]["name"] = "nul\x00inside"
    expected_errors[500] = "name: Contains a NUL character or a lone surrogate at name."
    del records[600]["customerId"]
    expected_errors[600] = "customerId: Missing data for required field."
    records[700]["customerId"] = records[10]["customerId"]
    expected_errors[700] = ("customerId: Duplicate of the record at index 10; each appears once "
                            "per request, the first one is applied.")
    records[800]["favouriteColour"] = "red"
    expected_errors[800] = "favouriteColour: Unknown field."

    body = api.wait(api.submit(records))
    assert_status_body(body)
    assert body["status"] == "completed"
    assert body["totalCount"] == 1000
    assert body["errorCount"] == len(expected_errors) == 36
    assert body["finishedCount"] == 1000 - len(expected_errors)
    failed = {entry["index"]: entry for entry in body["response"]["failed"]}
    assert {i: e["error"] for i, e in failed.items()} == expected_errors
    assert failed[3]["customerId"] == records[3]["customerId"]
    assert failed[600]["customerId"] is None
    successful = body["response"]["successful"]
    assert [s["index"] for s in successful] == sorted(set(range(1000)) - set(expected_errors))
    assert {s["message"] for s in successful} == {"Customer created successfully"}
    stored = stored_customer_ids(db, api.tenant_id)
    assert stored == {records[i]["customerId"] for i in range(1000) if i not in expected_errors}


def test_more_than_a_thousand_records_is_refused_and_nothing_stored(api, db):
    response = api.request("POST", "/batch/customers", json={"body": customers(1001)})
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == 3011
    assert "1001 records" in error["message"] and "at most 1000" in error["message"]
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 0


@pytest.mark.parametrize(("data", "content_type", "status", "code", "fragment"), [
    ("{not json", "application/json", 400, 3016, "not valid JSON"),
    ("", "application/json", 400, 3016, "not valid JSON"),
    ('{"records": []}', "application/json", 400, 3000, "body"),
    ('{"body": {"customerId": "1"}}', "application/json", 400, 3016, "body"),
    ('{"body": null}', "application/json", 400, 3016, "body"),
    ('{"body": []}', "application/json", 400, 3016, "at least one record"),
    ('{"body": [{"customerId": "1"}, 7]}', "application/json", 400, 3016, "body"),
    ('[{"customerId": "1"}]', "application/json", 400, 3016, "request body"),
    ('{"body": [{"customerId": "1"}]}', "text/plain", 415, 3013, "application/json"),
])
def test_malformed_envelope_is_refused_precisely(api, db, data, content_type, status, code,
                                                 fragment):
    response = api.request("POST", "/batch/customers", data=data.encode(),
                           headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()
    assert error["code"] == code
    assert fragment in error["message"] + str(error.get("errors", ""))
    assert error["requestId"] == response.headers["X-Request-ID"]
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == 0


def test_item_that_is_not_an_object_is_named(api):
    response = api.request("POST", "/batch/customers", json={"body": [customer("a"), "b"]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": {"1": ["Each item must be a JSON object."]}}


def test_unknown_operation_and_unknown_job_are_404(api):
    assert api.request("POST", "/batch/nonsense", json={"body": [customer("a")]}).json()["code"] == 4004
    response = api.request("GET", "/batch/no-such-job")
    assert response.status_code == 404 and response.json()["code"] == 4004
    assert api.request("DELETE", "/batch/no-such-job").status_code == 404
    assert api.customer("nobody").status_code == 404


@pytest.mark.parametrize(("headers", "code"), [
    ({}, 1001),
    ({"APIKey": "ak_unknown", "SecretKey": "whatever"}, 1000),
    ({"APIKey": "", "SecretKey": ""}, 1001),
])
def test_missing_or_unknown_keys_are_401(live_service, headers, code):
    import requests
    response = requests.post(f"{live_service.base_url}/api/v4.0/integrations/batch/customers",
                             json={"body": [customer("a")]}, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_wrong_secret_looks_like_wrong_key_and_revoked_pair_stops_at_once(api, database_url):
    wrong_secret = api.session.post(f"{api.base_url}/api/v4.0/integrations/batch/customers",
                                    json={"body": [customer("a")]},
                                    headers={"SecretKey": "sk_wrong"}, timeout=10)
    wrong_key = api.session.get(f"{api.base_url}/api/v4.0/integrations/batch/x",
                                headers={"APIKey": "ak_wrong"}, timeout=10)
    assert wrong_secret.status_code == wrong_key.status_code == 401
    assert wrong_secret.json()["message"] == wrong_key.json()["message"]

    assert api.request("GET", "/batch/x").status_code == 404  # the pair works
    with psycopg.connect(database_url) as conn:
        assert tenants.revoke_key(conn, api.api_key)
    assert api.request("GET", "/batch/x").status_code == 401


def test_another_tenants_job_and_customers_are_invisible(api, other_api):
    job_id = api.submit([customer("mine")])
    api.wait(job_id)
    assert other_api.request("GET", f"/batch/{job_id}").status_code == 404
    assert other_api.request("DELETE", f"/batch/{job_id}").status_code == 404
    assert other_api.customer("mine").status_code == 404
    assert api.customer("mine").status_code == 200


def test_same_customer_ids_in_two_tenants_stay_apart(api, other_api):
    api.wait(api.submit([customer("shared", name="Alice")]))
    other_api.wait(other_api.submit([customer("shared", name="Bob")]))
    assert api.customer("shared").json()["customerAttributes"]["name"] == "Alice"
    assert other_api.customer("shared").json()["customerAttributes"]["name"] == "Bob"


def test_update_overwrites_present_fields_keeps_absent_merges_custom_replaces_tags(api):
    api.wait(api.submit([customer("merge", name="Old", tags=["a", "b"],
                                  custom={"color": "blue", "points": 1})]))
    body = api.wait(api.submit([{"customerId": "merge", "email": "new@example.com",
                                 "tags": ["c"], "custom": {"points": 2, "tier": "gold"},
                                 "city": None}]))
    assert body["response"]["successful"][0]["message"] == "Customer updated successfully"
    stored = api.customer("merge").json()["customerAttributes"]
    assert stored["name"] == "Old"
    assert stored["email"] == "new@example.com"
    assert stored["tags"] == ["c"]
    assert stored["custom"] == {"color": "blue", "points": 2, "tier": "gold"}
    assert stored["city"] is None


def test_two_jobs_upserting_overlapping_customers_at_once(api, db):
    first = [customer(f"overlap-{i:04d}", name="first") for i in range(0, 600)]
    second = [customer(f"overlap-{i:04d}", name="second") for i in range(300, 900)]
    random.Random(7).shuffle(first)
    random.Random(8).shuffle(second)
    job_ids = [api.submit(first), api.submit(second)]
    bodies = [api.wait(job_id) for job_id in job_ids]
    for body in bodies:
        assert body["status"] == "completed"
        assert (body["finishedCount"], body["errorCount"]) == (600, 0)
        assert len(body["response"]["successful"]) == 600
    names = dict(db.execute("SELECT customer_id, profile->>'name' FROM customers"
                            " WHERE tenant_id = %s", (api.tenant_id,)).fetchall())
    assert len(names) == 900
    assert {names[f"overlap-{i:04d}"] for i in range(300)} == {"first"}
    assert {names[f"overlap-{i:04d}"] for i in range(600, 900)} == {"second"}
    assert set(names[f"overlap-{i:04d}"] for i in range(300, 600)) <= {"first", "second"}


def test_seed_shaped_and_document_shaped_customers_land_in_one_profile(api, db):
    api.wait(api.submit([customer("shape-1", name="Ann Lee", custom={"color": "blue"})]))
    body = api.wait(api.submit([
        {"customerId": "shape-1", "email": "ann@example.com", "osType": "ios",
         "customerAttributes": {"firstName": "Ann", "email": "ann@example.com",
                                "custom": {"tier": "gold"}, "channel": "web",
                                "devices": [{"model": "iPhone"}], "totalOrders": 3}},
        {"customerId": "shape-2", "firstName": "Bo", "customerAttributes": {"firstName": "Bob"}},
        {"customerId": "shape-3", "customerAttributes": {"nickname": "x"}},
        {"customerId": "shape-4", "customerAttributes": {"channel": "fax"}},
    ]))
    assert body["response"]["successful"] == [
        {"customerId": "shape-1", "index": 0, "message": "Customer updated successfully"}]
    assert [(f["index"], f["code"], f["error"]) for f in body["response"]["failed"]] == [
        (1, 3003, "customerAttributes.firstName: Differs from the top-level firstName; send it "
                  "once, or the same value in both places."),
        (2, 3003, "customerAttributes.nickname: Unknown field."),
        (3, 3003, "customerAttributes.channel: Must be one of: mobile, pos, web, callcenter."),
    ]
    profile = db.execute("SELECT profile FROM customers WHERE tenant_id = %s AND customer_id = %s",
                         (api.tenant_id, "shape-1")).fetchone()[0]
    assert {k: profile[k] for k in ("name", "firstName", "email", "osType", "custom", "channel",
                                    "devices", "totalOrders")} == {
        "name": "Ann Lee", "firstName": "Ann", "email": "ann@example.com", "osType": "ios",
        "custom": {"color": "blue", "tier": "gold"}, "channel": "web",
        "devices": [{"model": "iPhone"}], "totalOrders": 3}
    assert stored_customer_ids(db, api.tenant_id) == {"shape-1"}
    read = api.customer("shape-1").json()
    assert StoredCustomerSchema().validate(read) == {}
    assert (read["email"], read["osType"]) == ("ann@example.com", "ios")
    assert "osType" not in read["customerAttributes"]
    assert {k: read["customerAttributes"][k] for k in ("name", "firstName", "email", "channel")} == {
        "name": "Ann Lee", "firstName": "Ann", "email": "ann@example.com", "channel": "web"}


def test_a_customer_read_is_a_record_to_send_back(api):
    document = {"customerId": "round-trip", "email": "rt@example.com", "mobile": "+2010",
                "deviceToken": "tok", "osType": "android", "referrerCode": "REF", "guest": True,
                "customerAttributes": {
                    "displayName": "R", "firstName": "Ro", "lastName": "Trip",
                    "email": "rt@example.com", "mobile": "+2010", "gender": "Other",
                    "dateOfBirth": "1990-01-01", "joinDate": "2022-01-01", "country": "EG",
                    "city": "Giza", "zip": "12511", "preferredLanguage": "ar", "source": "pos",
                    "utms": ["utm_source=x"], "devices": [{"os": "android"}],
                    "paymentMethods": ["cash"], "totalSpent": 10.5,
                    "lastOrderDate": "2024-10-16T08:13:29.290000+00:00", "totalOrders": 1,
                    "avgOrderAmount": 10.5, "channel": "pos", "custom": {"k": "v"},
                    "tags": ["t"], "name": "Ro Trip"}}
    api.wait(api.submit([document]))
    read = api.customer("round-trip").json()
    assert {k: v for k, v in read.items() if k not in ("gameballId", "createdAt", "updatedAt")} == document

    api.wait(api.submit([customer("seed-trip")]))
    seed_read = api.customer("seed-trip").json()
    sent_back = [{k: v for k, v in answer.items() if k not in ("gameballId", "createdAt",
                                                               "updatedAt")}
                 for answer in (read, seed_read)]
    body = api.wait(api.submit(sent_back))
    assert [s["message"] for s in body["response"]["successful"]] == [
        "Customer updated successfully"] * 2
    assert api.customer("round-trip").json()["gameballId"] == read["gameballId"]
    assert api.customer("seed-trip").json()["customerAttributes"] == seed_read["customerAttributes"]
