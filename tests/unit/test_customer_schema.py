"""The customer record schema: what it accepts, and the message for what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from schemas.customers import customer_schema
from schemas.messages import error_line


def refusal(record: dict) -> str:
    with pytest.raises(ValidationError) as raised:
        customer_schema.load(record)
    return error_line(raised.value.messages)


def test_seed_record_loads_with_real_dates():
    loaded = customer_schema.load({
        "customerId": "12345", "email": "john.doe@example.com", "name": "John Doe",
        "gender": "M", "dateOfBirth": "1990-01-01", "joinDate": "2022-01-01",
        "tags": ["vip", "newsletter_subscriber"],
        "custom": {"favorite_color": "blue", "loyalty_points": 1500}})
    assert loaded["dateOfBirth"] == dt.date(1990, 1, 1)
    assert loaded["custom"] == {"favorite_color": "blue", "loyalty_points": 1500}


@pytest.mark.parametrize(("record", "message"), [
    ({}, "customerId: Missing data for required field."),
    ({"customerId": ""}, "customerId: Must not be blank."),
    ({"customerId": "  "}, "customerId: Must not be blank."),
    ({"customerId": 12345}, "customerId: Not a valid string."),
    ({"customerId": "x" * 129}, "customerId: Longer than 128 characters."),
    ({"customerId": "1", "email": "nope"}, "email: Not a valid email address."),
    ({"customerId": "1", "gender": "male"}, "gender: Must be one of: M, F, O, Other."),
    ({"customerId": "1", "dateOfBirth": "19900101"},
     "dateOfBirth: Not a valid date; expected a real date as YYYY-MM-DD."),
    ({"customerId": "1", "joinDate": "2023-02-29"},
     "joinDate: Not a valid date; expected a real date as YYYY-MM-DD."),
    ({"customerId": "1", "tags": "vip"}, "tags: Not a valid list."),
    ({"customerId": "1", "tags": ["ok", 3]}, "tags.1: Not a valid string."),
    ({"customerId": "1", "custom": ["a"]}, "custom: Not a valid mapping type."),
    ({"customerId": "1", "guest": "yes"}, "guest: Not a valid boolean."),
    ({"customerId": "1", "nickname": "x"}, "nickname: Unknown field."),
    ({"customerId": "1", "city": "Cai\x00ro"},
     "city: Contains a NUL character or a lone surrogate at city."),
    ({"customerId": "1", "custom": {"a": ["ok", "b\ud800"]}},
     "custom: Contains a NUL character or a lone surrogate at custom.a.1."),
])
def test_refused_records_name_field_and_reason(record, message):
    assert refusal(record) == message


def test_custom_limits_are_named():
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert refusal({"customerId": "1", "custom": deep}) == (
        "custom: Nested too deeply; at most 5 levels.")
    many = {f"k{i}": i for i in range(101)}
    assert refusal({"customerId": "1", "custom": many}) == "custom: Too many keys: 101; at most 100."
    big = {"blob": "x" * 20_000}
    assert refusal({"customerId": "1", "custom": big}).startswith("custom: Too large: 20011 bytes")


def test_null_clears_optional_fields():
    assert customer_schema.load({"customerId": "1", "email": None, "tags": None}) == {
        "customerId": "1", "email": None, "tags": None}


def test_text_that_only_looks_like_a_nul_escape_is_stored():
    assert customer_schema.load({"customerId": "1", "city": "C:\\u0000"})["city"] == "C:\\u0000"
    assert refusal({"customerId": "1", "custom": {"k\x00": 1}}) == (
        "custom: Contains a NUL character or a lone surrogate at custom.k\x00.")
