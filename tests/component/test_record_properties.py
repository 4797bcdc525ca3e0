"""Property tests: any JSON value as a record is a valid record or a failure with a message.

Never an exception: a record that breaks a schema must fail alone, with a message naming the
field, and a record a schema accepts must be storable as it is (no NUL, no lone surrogate, no
value PostgreSQL refuses), so it can never make its chunk fail, whatever its operation.
"""

from __future__ import annotations

import psycopg
from hypothesis import HealthCheck, given, settings
from marshmallow import ValidationError

import app.store.db  # noqa: F401 - registers the JSON dumper the workers use (dates as ISO text)
from app.catalogue import OPERATIONS
from app.config import Config
from schemas.fields import unstorable_text_path
from schemas.messages import error_line
from tests.support.records import records_of
from workers.operations import APPLY, ChunkContext, ValidRecord


def outcome(operation, record) -> tuple[bool, object]:
    """Load ``record``: (True, data) or (False, the failure's message line)."""
    try:
        return True, operation.load(record)
    except ValidationError as error:
        line = error_line(error.messages)
        assert line, "a failure must say why"
        return False, line


SETTINGS = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def test_every_operations_schema_accepts_or_fails_any_json_with_a_message():
    for operation in OPERATIONS.values():
        @SETTINGS
        @given(record=records_of(operation))
        def loads_or_fails(record):
            accepted, data = outcome(operation, record)
            if accepted:
                assert unstorable_text_path(data) is None
        loads_or_fails()


def test_accepted_records_are_applied_without_failing_their_chunk(database_url, redis_url,
                                                                 make_tenant):
    tenant_id, _ = make_tenant()
    context = ChunkContext(tenant_id, 1,
                           Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url}))
    accepted_by: dict[str, int] = {}
    for operation in OPERATIONS.values():
        # Weighted towards records close to valid, and as many draws as the test above:
        # this test is about accepted records, and from the plain mix a redemption (exactly
        # one of points and amount) is accepted about once in 33 draws, too rarely to be
        # sure of one in 40. Derandomized runs still differ between a whole suite and this
        # file alone: Hypothesis also draws constants found in the modules loaded.
        @SETTINGS
        @given(record=records_of(operation, near_valid=True))
        def applied(record):
            accepted, data = outcome(operation, record)
            if not accepted:
                return
            accepted_by[operation.name] = accepted_by.get(operation.name, 0) + 1
            with psycopg.connect(database_url) as conn:
                # A record may fail for its own reason (no such customer), never raise.
                outcomes = APPLY[operation.name](conn, context, [ValidRecord(0, data)])
                conn.rollback()
            assert [o.index for o in outcomes] == [0]
        applied()
    assert set(accepted_by) == set(OPERATIONS)  # every operation's apply was exercised
