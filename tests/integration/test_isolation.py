"""Tenants never reach each other's data, and keys work and stop working as promised.

The endpoints are taken from /openapi.json, so an endpoint added later with a job or
customer id in its path is checked here without anyone remembering to.
"""

from __future__ import annotations

import psycopg
import requests

from app.store import tenants
from tests.support.cli import flask
from tests.support.client import PREFIX, ApiClient
from tests.support.factories import customer

UNKNOWN_JOB = "4503599627370496"  # 2**52: an id no job of this run draws in practice
JOB_PARAMETERS = ("{job_id}", "{batchId}")


def id_paths(base_url: str) -> list[tuple[str, str]]:
    """Return (method, path) of every documented operation with a job or customer id."""
    spec = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    return [(method.upper(), path) for path, operations in spec["paths"].items()
            for method in operations
            if any(name in path for name in (*JOB_PARAMETERS, "{customer_id}"))]


def with_ids(template: str, job_id: str, customer_id: str) -> str:
    for name in JOB_PARAMETERS:
        template = template.replace(name, job_id)
    return template.replace("{customer_id}", customer_id)


def call(client: ApiClient, method: str, path: str) -> requests.Response:
    return client.session.request(method, client.base_url + path, timeout=30)


def test_another_tenants_ids_answer_exactly_like_unknown_ids_on_every_endpoint(api, other_api):
    job_id = str(api.submit([customer("iso-1"), customer("iso-2", email="broken")]))
    assert api.wait(job_id)["status"] == "completed"
    paths = id_paths(api.base_url)
    # jobs (show, stop, failed, successful, the document's status and stop) and customers
    assert len(paths) >= 7
    for method, template in paths:
        theirs = with_ids(template, job_id, "iso-1")
        unknown = with_ids(template, UNKNOWN_JOB, "nobody-x")
        refused, absent = call(other_api, method, theirs), call(other_api, method, unknown)
        code = 7000 if "{customer_id}" in template else 4004  # no such customer / resource
        assert (refused.status_code, refused.json()["code"]) == (404, code), (method, theirs)
        assert (refused.json()["message"].replace(job_id, "ID").replace("iso-1", "ID")
                == absent.json()["message"].replace(UNKNOWN_JOB, "ID").replace("nobody-x", "ID"))
        # The owner does reach it (a stop of a completed job is a conflict, not a 404).
        assert call(api, method, theirs).status_code in (200, 409), (method, theirs)
    assert api.job(job_id)["status"] == "completed"  # the other tenant's DELETE stopped nothing


def test_listing_shows_only_the_callers_jobs(api, other_api):
    job_id = str(api.submit([customer("iso-list")]))
    assert job_id in call(api, "GET", f"{PREFIX}/batch").text
    assert job_id not in call(other_api, "GET", f"{PREFIX}/batch").text


def test_wrong_apikey_and_wrong_secretkey_are_indistinguishable(api):
    def answer(key: str, secret: str) -> tuple[int, dict]:
        response = requests.get(f"{api.base_url}{PREFIX}/batch/{UNKNOWN_JOB}", timeout=10,
                                headers={"APIKey": key, "SecretKey": secret})
        body = response.json()
        body.pop("requestId")
        return response.status_code, body

    wrong_key = answer("ak_" + "x" * 32, api.secret_key)
    wrong_secret = answer(api.api_key, "sk_" + "x" * 43)
    both_wrong = answer("ak_nobody", "sk_nothing")
    assert wrong_key == wrong_secret == both_wrong
    assert wrong_key[0] == 401 and wrong_key[1]["code"] == 1000


def test_two_active_pairs_then_revoking_one_from_the_cli_stops_it_at_once(
        api, live_service, database_url, redis_url):
    second = tenants.generate_key_pair()
    with psycopg.connect(database_url) as conn:
        assert tenants.add_key_pair(conn, api.tenant_id, second)
    rotated = ApiClient(api.base_url, second.api_key, second.secret_key, api.tenant_id)
    job_id = api.submit([customer("rotation")])
    assert rotated.job(job_id)["jobId"] == job_id  # same tenant, either pair

    result = flask(database_url, redis_url, "tenants", "revoke", api.api_key)
    assert result.returncode == 0, result.stderr
    assert api.request("GET", f"/batch/{job_id}").status_code == 401
    assert rotated.request("GET", f"/batch/{job_id}").status_code == 200


def test_job_ids_are_random_integers_not_a_sequence(api):
    ids = [api.submit([customer(f"seq-{n}")]) for n in range(5)]
    assert all(type(job_id) is int and 0 < job_id < 2**53 for job_id in ids)
    assert len(set(ids)) == 5
    steps = {b - a for a, b in zip(ids, ids[1:])}
    assert len(steps) == 4 and not all(0 < step < 1000 for step in steps)  # no common step
