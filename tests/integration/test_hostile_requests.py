"""A corpus of hostile requests against the real service: each gets its precise JSON error.

Every case names the status and the error code it must get; none may get a 5xx, an HTML
page or a job. Requests are sent as raw bytes, so nothing is tidied up on the way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.support.rawhttp import request_bytes, send

PREFIX = "/api/v4.0/integrations"
RECORD = {"customerId": "hostile-1", "email": "h@example.com"}
VALID = json.dumps({"body": [RECORD]}).encode()
MIB = 1024 * 1024


def envelope(records_json: bytes) -> bytes:
    return b'{"body": [' + records_json + b"]}"


@dataclass(frozen=True)
class Case:
    """One hostile request and the answer it must get."""

    name: str
    status: int
    code: int
    body: bytes = VALID
    method: str = "POST"
    path: str = "/batch/customers"
    content_type: str | None = "application/json"
    keys: str = "valid"          # "valid", "none", "apikey-only", "secret-only", "wrong-secret", ...
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False
    raw: bytes | None = None     # the whole request, sent as is (gunicorn refuses these)


AUTH = [
    Case("no keys", 401, 1001, keys="none"),
    Case("APIKey only", 401, 1001, keys="apikey-only"),
    Case("SecretKey only", 401, 1001, keys="secret-only"),
    Case("unknown APIKey", 401, 1000, keys="unknown"),
    Case("right APIKey, wrong SecretKey", 401, 1000, keys="wrong-secret"),
    Case("keys swapped", 401, 1000, keys="swapped"),
    Case("empty keys", 401, 1001, keys="empty"),
    Case("8,000-character APIKey", 401, 1000, keys="long"),
    Case("non-ASCII bytes in APIKey", 401, 1000, keys="latin1"),
    Case("SQL in APIKey", 401, 1000, keys="sql"),
    Case("GET a job without keys", 401, 1001, method="GET", path="/batch/abc", keys="none"),
    Case("DELETE a job without keys", 401, 1001, method="DELETE", path="/batch/abc", keys="none"),
    Case("GET a customer without keys", 401, 1001, method="GET", path="/customers/x", keys="none"),
]

MEDIA = [
    Case("text/plain", 415, 3013, content_type="text/plain"),
    Case("no Content-Type", 415, 3013, content_type=None),
    Case("form-encoded", 415, 3013, content_type="application/x-www-form-urlencoded"),
    Case("multipart", 415, 3013, content_type="multipart/form-data; boundary=x"),
    Case("application/jsonp", 415, 3013, content_type="application/jsonp"),
    Case("text/json", 415, 3013, content_type="text/json"),
]

JSON = [
    Case("not JSON", 400, 3016, body=b"{not json"),
    Case("empty body", 400, 3016, body=b""),
    Case("whitespace only", 400, 3016, body=b"  \n "),
    Case("invalid UTF-8 in a string", 400, 3016, body=envelope(b'{"customerId": "\xff\xfe"}')),
    Case("overlong UTF-8", 400, 3016, body=envelope(b'{"customerId": "\xc0\xaf"}')),
    Case("UTF-16 body", 400, 3016, body=VALID.decode().encode("utf-16")),
    Case("lone surrogate escape", 400, 3016, body=envelope(b'{"customerId": "\\ud800"}')),
    Case("NaN", 400, 3016, body=envelope(b'{"customerId": "n", "custom": {"x": NaN}}')),
    Case("Infinity", 400, 3016, body=envelope(b'{"customerId": "i", "custom": {"x": Infinity}}')),
    Case("-Infinity", 400, 3016, body=envelope(b'{"customerId": "i", "custom": {"x": -Infinity}}')),
    Case("float overflow", 400, 3016, body=envelope(b'{"customerId": "f", "custom": {"x": 1e400}}')),
    Case("integer beyond 64 bits", 400, 3016,
         body=envelope(b'{"customerId": "b", "custom": {"x": 123456789012345678901234567890}}')),
    Case("10,000 nested arrays", 400, 3016, body=b"[" * 10_000 + b"]" * 10_000),
    Case("10,000 nested objects in a record", 400, 3016,
         body=envelope(b'{"customerId": "d", "custom": ' + b'{"a":' * 10_000 + b"1"
                       + b"}" * 10_000 + b"}")),
    Case("trailing garbage", 400, 3016, body=VALID + b" x"),
    Case("two documents", 400, 3016, body=VALID + VALID),
    Case("byte-order mark", 400, 3016, body=b"\xef\xbb\xbf" + VALID),
    Case("single quotes", 400, 3016, body=b"{'body': [{'customerId': 'q'}]}"),
    Case("trailing comma", 400, 3016, body=b'{"body": [{"customerId": "t"},]}'),
    Case("comment", 400, 3016, body=b'/* hi */ {"body": [{"customerId": "c"}]}'),
    Case("raw NUL byte", 400, 3016, body=b'{"body": [{"customerId": "a\x00b"}]}'),
    Case("unterminated string", 400, 3016, body=b'{"body": [{"customerId": "a'),
]

ENVELOPE = [
    Case("top-level array", 400, 3016, body=b'[{"customerId": "x"}]'),
    Case("top-level string", 400, 3016, body=b'"body"'),
    Case("top-level number", 400, 3016, body=b"42"),
    Case("top-level null", 400, 3016, body=b"null"),
    Case("empty object", 400, 3000, body=b"{}"),
    Case("body null", 400, 3016, body=b'{"body": null}'),
    Case("body an object", 400, 3016, body=b'{"body": {"customerId": "x"}}'),
    Case("body a string", 400, 3016, body=b'{"body": "x"}'),
    Case("body empty", 400, 3016, body=b'{"body": []}'),
    Case("item a number", 400, 3016, body=b'{"body": [1]}'),
    Case("item null", 400, 3016, body=b'{"body": [null]}'),
    Case("item a list", 400, 3016, body=b'{"body": [[]]}'),
    Case("BODY upper case", 400, 3000, body=b'{"BODY": [{"customerId": "x"}]}'),
    Case("unknown envelope field", 400, 3016, body=b'{"body": [{"customerId": "x"}], "x": 1}'),
]

SIZE = [
    Case("1,001 records", 422, 3011,
         body=json.dumps({"body": [{"customerId": str(i)} for i in range(1001)]}).encode()),
    Case("100,000 empty objects", 422, 3011, body=b'{"body": [' + b",".join([b"{}"] * 100_000) + b"]}"),
    Case("6 MiB body", 413, 4013, body=envelope(b'{"customerId": "big", "name": "' + b"x" * (6 * MIB) + b'"}')),
    Case("6 MiB body, chunked", 413, 4013, chunked=True,
         body=envelope(b'{"customerId": "big", "name": "' + b"x" * (6 * MIB) + b'"}')),
    Case("Content-Length above the limit, body never sent", 413, 4013,
         raw=b"POST " + PREFIX.encode() + b"/batch/customers HTTP/1.1\r\nHost: t\r\n"
             b"Content-Type: application/json\r\nContent-Length: 6000000\r\n"
             b"APIKey: {apikey}\r\nSecretKey: {secret}\r\n\r\n"),
]

PATHS = [
    Case("unknown operation", 404, 4004, path="/batch/unknown-operation"),
    Case("operation with dots", 404, 4004, path="/batch/..%2F..%2Fetc%2Fpasswd"),
    Case("unknown job", 404, 4004, method="GET", path="/batch/00000000000000000000000000000000"),
    Case("job id with NUL", 404, 4004, method="GET", path="/batch/ab%00cd"),
    Case("job id with invalid UTF-8", 404, 4004, method="GET", path="/batch/%ff%fe"),
    Case("job id of 3,000 characters", 404, 4004, method="GET", path="/batch/" + "a" * 3000),
    Case("stop a job id with NUL", 404, 4004, method="DELETE", path="/batch/%00"),
    Case("customer id with NUL", 404, 4004, method="GET", path="/customers/a%00b"),
    Case("customer id with a lone surrogate", 404, 7000, method="GET", path="/customers/%ed%a0%80"),
    Case("customer id of 300 characters", 404, 7000, method="GET", path="/customers/" + "c" * 300),
    Case("customer id with SQL", 404, 7000, method="GET", path="/customers/x'%20OR%20'1'='1"),
    Case("unknown path", 404, 4004, method="GET", path="/nowhere"),
    Case("PUT on an operation", 405, 4005, method="PUT", path="/batch/customers"),
    Case("PATCH on a job", 405, 4005, method="PATCH", path="/batch/abc"),
    Case("POST on a customer", 405, 4005, method="POST", path="/customers/x"),
]

QUERY = [
    Case(f"listing with {name}", 422, 3003, method="GET", path=f"/batch?{query}")
    for name, query in [
        ("a word for limit", "limit=abc"), ("a negative limit", "limit=-1"),
        ("a huge limit", "limit=99999999999999999999999"), ("a forged cursor", "cursor=AAAA"),
        ("a NUL in the cursor", "cursor=%00"), ("a NUL in the status", "status=%00"),
        ("an unknown status", "status=exploded"), ("a date that is not one", "createdAfter=soon"),
        ("a year past 9999", "createdAfter=99999-01-01T00:00:00Z"),
        ("invalid UTF-8 in a parameter", "status=%ff%fe"),
    ]
] + [
    Case("failed records with a forged cursor", 422, 3003, method="GET",
         path="/batch/{job}/failed?cursor=%ff%00"),
    Case("successful records with limit zero", 422, 3003, method="GET",
         path="/batch/{job}/successful?limit=0"),
]

GUNICORN = [
    Case("request line of 10,000 characters", 414, 4014,
         raw=b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"),
    Case("job id of 5,000 characters", 414, 4014, method="GET", path="/batch/" + "a" * 5000),
    Case("header of 10,000 characters", 431, 4031,
         raw=b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 10_000 + b"\r\n\r\n"),
    Case("150 headers", 431, 4031,
         raw=b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
             + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n"),
    Case("garbage request line", 400, 3016, raw=b"GARBAGE\r\n\r\n"),
    Case("invalid header name", 400, 3016, raw=b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n"),
    Case("invalid chunk size", 400, 3016,
         raw=b"POST " + PREFIX.encode() + b"/batch/customers HTTP/1.1\r\nHost: t\r\n"
             b"APIKey: {apikey}\r\nSecretKey: {secret}\r\nContent-Type: application/json\r\n"
             b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
    Case("Content-Length and chunked together", 400, 3016,
         raw=b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
]

CORPUS = AUTH + MEDIA + JSON + ENVELOPE + SIZE + PATHS + QUERY + GUNICORN


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 60
    assert len({case.name for case in CORPUS}) == len(CORPUS)


def _keys(case: Case, api) -> list[tuple[str, str]]:
    key, secret = api.api_key, api.secret_key
    return {
        "valid": [("APIKey", key), ("SecretKey", secret)],
        "none": [],
        "apikey-only": [("APIKey", key)],
        "secret-only": [("SecretKey", secret)],
        "unknown": [("APIKey", "ak_unknown"), ("SecretKey", secret)],
        "wrong-secret": [("APIKey", key), ("SecretKey", secret[:-1] + "x")],
        "swapped": [("APIKey", secret), ("SecretKey", key)],
        "empty": [("APIKey", ""), ("SecretKey", "")],
        "long": [("APIKey", "k" * 8000), ("SecretKey", secret)],
        "latin1": [("APIKey", key + "\xe9\xff"), ("SecretKey", secret)],
        "sql": [("APIKey", "' OR '1'='1"), ("SecretKey", "' OR '1'='1")],
    }[case.keys]


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_request_gets_its_precise_error(case, live_service, api, db):
    jobs_before = 0
    path = case.path
    if "{job}" in path:  # a real job of the caller's, so only the hostile part can fail
        path = path.replace("{job}", str(api.submit([RECORD])))
        jobs_before = 1
    if path.startswith(("/batch", "/customers")):
        path = PREFIX + path
    if case.raw is not None:
        data = case.raw.replace(b"{apikey}", api.api_key.encode()).replace(
            b"{secret}", api.secret_key.encode())
    else:
        headers = _keys(case, api) + list(case.headers)
        if case.content_type is not None:
            headers.append(("Content-Type", case.content_type))
        body = case.body if case.method in ("POST", "PUT", "PATCH") else b""
        data = request_bytes(case.method, path, headers, body, chunked=case.chunked)
    answer = send(live_service.base_url, data)
    assert answer.headers.get("content-type") == "application/json", answer.body[:300]
    error = answer.json()
    assert (answer.status, error["code"]) == (case.status, case.code), error
    assert set(error) <= {"code", "type", "message", "documentationUrl", "requestId", "errors"}
    assert error["message"] and error["requestId"]
    assert error["documentationUrl"].endswith(f"/docs/errors#{case.code}")
    assert db.execute("SELECT count(*) FROM batch_jobs WHERE tenant_id = %s",
                      (api.tenant_id,)).fetchone()[0] == jobs_before
