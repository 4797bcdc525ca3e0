"""The request envelope and the one-line error messages of failed records."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from schemas.envelope import BatchEnvelopeSchema
from schemas.messages import error_line, flatten_errors


def test_envelope_takes_one_to_max_objects():
    schema = BatchEnvelopeSchema(max_records=3)
    assert schema.load({"body": [{"a": 1}]}) == {"body": [{"a": 1}]}
    with pytest.raises(ValidationError) as raised:
        schema.load({"body": [{}] * 4})
    assert "Holds 4 records; one request takes at most 3" in error_line(raised.value.messages)
    assert schema.holds_too_many({"body": [{}] * 4})
    assert not schema.holds_too_many({"body": [{}] * 3})
    assert not schema.holds_too_many(["not", "an", "object", "!"])


def test_flatten_errors_names_nested_positions():
    messages = {"tags": {2: ["Not a valid string."]}, "_schema": ["Bad record."],
                "email": ["Not a valid email address.", "Too long."]}
    assert flatten_errors(messages) == [
        "tags.2: Not a valid string.", "record: Bad record.",
        "email: Not a valid email address.", "email: Too long."]
    # A nested object's own error is named by the object's field.
    assert flatten_errors({"customerAttributes": {"_schema": ["Must be a JSON object."]}}) == [
        "customerAttributes: Must be a JSON object."]
