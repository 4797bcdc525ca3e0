"""Text PostgreSQL cannot store is found once per job's JSON, not once per record."""

from __future__ import annotations

import secrets

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas.records
from app.store import jobs
from schemas.fields import storable_json, text_known_storable, unstorable_text_path
from tests.support.factories import customers
from tests.support.jobs import read_job, submit_job
from workers import tasks

# Any text a client can send: everything but lone surrogates, which orjson refuses to parse.
TEXT = st.text(st.characters(exclude_categories=("Cs",)) | st.just("\x00"), max_size=8)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | TEXT,
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(value=JSON)
def test_stored_json_without_the_nul_escape_holds_only_storable_text(value):
    stored = orjson.dumps(value)
    assert storable_json(stored) == (unstorable_text_path(orjson.loads(stored)) is None)


def test_the_skip_lasts_only_as_long_as_its_block():
    schema = schemas.records.CustomerRecordSchema()
    with text_known_storable(True):
        assert schema.load({"customerId": "a\x00b"}) == {"customerId": "a\x00b"}
    errors = schema.validate({"customerId": "a\x00b"})
    assert errors == {"customerId": ["Contains a NUL character or a lone surrogate at customerId."]}


def checks_made(monkeypatch) -> list[object]:
    """Record each record's own text check (and still make it)."""
    made: list[object] = []

    def counted(value):
        made.append(value)
        return unstorable_text_path(value)
    monkeypatch.setattr(schemas.records, "unstorable_text_path", counted)
    return made


def test_a_job_without_the_escape_skips_each_records_check(app, db_tenant, monkeypatch):
    services = app.extensions["batchq"]
    job_id = submit_job(services, db_tenant, customers(2, prefix=secrets.token_hex(4)))
    checks = checks_made(monkeypatch)

    with app.app_context():
        tasks.run_job.run(job_id)

    job = read_job(services, job_id)
    assert (job.status, job.finished_count, job.error_count) == ("completed", 2, 0)
    assert checks == []


def test_a_job_holding_a_nul_checks_each_record_and_fails_only_that_one(app, db_tenant,
                                                                          monkeypatch):
    services = app.extensions["batchq"]
    records = customers(2, prefix=secrets.token_hex(4))
    records[1]["name"] = "nul\x00inside"
    job_id = submit_job(services, db_tenant, records)
    checks = checks_made(monkeypatch)

    with app.app_context():
        tasks.run_job.run(job_id)

    assert {checked["customerId"] for checked in checks} == {r["customerId"] for r in records}
    job = read_job(services, job_id)
    assert (job.status, job.finished_count, job.error_count) == ("completed", 1, 1)
    with services.db.transaction() as conn:
        [chunk] = jobs.done_chunks(conn, job_id)
    assert [entry["error"] for entry in chunk.failed] == [
        "name: Contains a NUL character or a lone surrogate at name."]
