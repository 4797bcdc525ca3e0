"""Property tests: any JSON value as a record is a valid record or a failure with a message.

Never an exception: a record that breaks a schema must fail alone, with a message naming the
field, and a record a schema accepts must be storable as it is (no NUL, no lone surrogate, no
value PostgreSQL refuses), so it can never make its chunk fail, whatever its operation.
"""

from __future__ import annotations

import string
from datetime import datetime, timezone

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.fields import unstorable_text_path
from schemas.messages import error_line
import app.db  # noqa: F401 - registers the JSON dumper the workers use (dates as ISO text)
from app.config import Config
from workers.operations import REGISTRY, ChunkContext, ValidRecord

# Any text, NUL and lone surrogates included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | any_text)
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                           | st.dictionaries(any_text, children, max_size=5), max_leaves=30)

# Values that pass often, so the accepted path is explored too.
plausible = {
    "email": st.emails(),
    "gender": st.sampled_from(["M", "F", "O", "Other", "X", ""]),
    "dateOfBirth": st.dates().map(str) | st.sampled_from(["1990-02-30", "19900101"]),
    "joinDate": st.dates().map(str),
    "guest": st.booleans(),
    "tags": st.lists(st.text(string.ascii_letters, min_size=1, max_size=70), max_size=3),
    "custom": st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), json_values,
                              max_size=4),
    "name": any_text,
    # The points operations' fields: ids, instants with a zone, amounts and points.
    "orderId": st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
    "transactionId": st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
    "orderDate": st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat),
    "transactionTime": st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat),
    "totalPaid": st.integers(-10, 10**13) | st.floats(0, 1e13),
    "amount": st.integers(-(10**13), 10**13) | st.floats(-1e13, 1e13),
    "points": st.integers(-(10**13), 10**13),
    "events": st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8),
                              st.dictionaries(st.text(string.ascii_letters, min_size=1,
                                                      max_size=8), scalars, max_size=3),
                              max_size=3),
}


def records_for(schema) -> st.SearchStrategy:
    """Records close to valid, records with any values in its fields, and any JSON at all."""
    fields = [name for name in schema.fields if name != "customerId"]
    text = st.text(string.printable, max_size=20)
    required = [name for name in fields if schema.fields[name].required]
    near_valid = st.fixed_dictionaries(
        {"customerId": st.text(string.ascii_letters + string.digits + "-_", min_size=1,
                               max_size=40),
         **{name: plausible.get(name, text) for name in required}},
        optional={name: plausible.get(name, st.none() | text) for name in fields
                  if name not in required})
    wild = st.fixed_dictionaries(
        {"customerId": json_values | st.text(max_size=130)},
        optional={name: json_values | plausible.get(name, text) for name in fields})
    return near_valid | wild | json_values | st.dictionaries(any_text, json_values, max_size=4)


def outcome(schema, record) -> tuple[bool, object]:
    """Load ``record``: (True, data) or (False, the failure's message line)."""
    try:
        return True, schema.load(record)
    except ValidationError as error:
        line = error_line(error.messages)
        assert line, "a failure must say why"
        return False, line


SETTINGS = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def test_every_operations_schema_accepts_or_fails_any_json_with_a_message():
    for operation in REGISTRY.values():
        @SETTINGS
        @given(record=records_for(operation.schema))
        def loads_or_fails(record):
            accepted, data = outcome(operation.schema, record)
            if accepted:
                assert unstorable_text_path(data) is None
        loads_or_fails()


def test_accepted_records_are_applied_without_failing_their_chunk(database_url, redis_url,
                                                                 make_tenant):
    tenant_id, _ = make_tenant()
    context = ChunkContext(tenant_id, "properties",
                           Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url}))
    accepted_by: dict[str, int] = {}
    for operation in REGISTRY.values():
        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(record=records_for(operation.schema))
        def applied(record):
            accepted, data = outcome(operation.schema, record)
            if not accepted:
                return
            accepted_by[operation.name] = accepted_by.get(operation.name, 0) + 1
            with psycopg.connect(database_url) as conn:
                # A record may fail for its own reason (no such customer), never raise.
                outcomes = operation.apply(conn, context, [ValidRecord(0, data)])
                conn.rollback()
            assert [o.index for o in outcomes] == [0]
        applied()
    assert set(accepted_by) == set(REGISTRY)  # every operation's apply was exercised
