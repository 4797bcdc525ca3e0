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


DOCUMENT_RECORD = {
    "customerId": "12345", "email": "john.doe@example.com", "mobile": "+201000000000",
    "deviceToken": "fcm-token", "osType": "android", "referrerCode": "REF-1", "guest": False,
    "customerAttributes": {
        "displayName": "John", "firstName": "John", "lastName": "Doe",
        "email": "john.doe@example.com", "gender": "M", "mobile": "+201000000000",
        "dateOfBirth": "1990-01-01", "joinDate": "2022-01-01", "country": "EG", "city": "Cairo",
        "zip": "11511", "preferredLanguage": "en", "source": "shop",
        "utms": ["utm_source=newsletter"], "devices": [{"model": "Pixel 8", "os": "android"}],
        "paymentMethods": ["card"], "totalSpent": 1200.5, "lastOrderDate": "2024-10-16T08:13:29.290Z",
        "totalOrders": 7, "avgOrderAmount": 171.5, "channel": "web",
        "custom": {"tier": "gold"}, "tags": ["vip"]},
}


def test_the_documents_shape_loads_into_the_same_flat_profile_as_the_seeds():
    loaded = customer_schema.load(DOCUMENT_RECORD)
    assert "customerAttributes" not in loaded
    assert loaded["firstName"] == "John" and loaded["deviceToken"] == "fcm-token"
    assert loaded["dateOfBirth"] == dt.date(1990, 1, 1)
    assert loaded["lastOrderDate"] == dt.datetime(2024, 10, 16, 8, 13, 29, 290000, dt.timezone.utc)
    assert (loaded["totalSpent"], loaded["totalOrders"], loaded["utms"]) == (
        1200.5, 7, ["utm_source=newsletter"])
    flat = {"customerId": "1", "firstName": "Ann", "custom": {"a": 1}, "tags": ["x"]}
    nested = {"customerId": "1", "customerAttributes": {"firstName": "Ann", "custom": {"a": 1},
                                                        "tags": ["x"]}}
    assert customer_schema.load(flat) == customer_schema.load(nested)
    # The same value in both places is one value, not a conflict.
    assert customer_schema.load({**flat, **nested}) == customer_schema.load(flat)


@pytest.mark.parametrize(("record", "message"), [
    ({"customerId": "1", "firstName": "Ann", "customerAttributes": {"firstName": "Anne"}},
     "customerAttributes.firstName: Differs from the top-level firstName; send it once, or the "
     "same value in both places."),
    ({"customerId": "1", "email": "a@b.co", "customerAttributes": {"email": "c@d.co"}},
     "customerAttributes.email: Differs from the top-level email; send it once, or the same "
     "value in both places."),
    ({"customerId": "1", "custom": {"a": 1}, "customerAttributes": {"custom": {"a": True}}},
     "customerAttributes.custom: Differs from the top-level custom; send it once, or the same "
     "value in both places."),
    ({"customerId": "1", "customerAttributes": {"nickname": "x"}},
     "customerAttributes.nickname: Unknown field."),
    ({"customerId": "1", "name": "x", "customerAttributes": {"name": "y"}},
     "customerAttributes.name: Differs from the top-level name; send it once, or the same "
     "value in both places."),
    ({"customerId": "1", "zip": "11511"}, "zip: Unknown field."),
    ({"customerId": "1", "customerAttributes": None}, "customerAttributes: Field may not be null."),
    ({"customerId": "1", "customerAttributes": ["x"]}, "customerAttributes: Must be a JSON object."),
    ({"customerId": "1", "customerAttributes": {"channel": "email"}},
     "customerAttributes.channel: Must be one of: mobile, pos, web, callcenter."),
    ({"customerId": "1", "customerAttributes": {"totalSpent": "10"}},
     "customerAttributes.totalSpent: Not a valid number; expected a JSON number."),
    ({"customerId": "1", "customerAttributes": {"avgOrderAmount": -1}},
     "customerAttributes.avgOrderAmount: Must be greater than or equal to 0 and less than or "
     "equal to 1000000000000."),
    ({"customerId": "1", "customerAttributes": {"totalOrders": 2.5}},
     "customerAttributes.totalOrders: Not a valid integer."),
    ({"customerId": "1", "customerAttributes": {"totalOrders": -1}},
     "customerAttributes.totalOrders: Must be greater than or equal to 0 and less than or "
     "equal to 1000000000."),
    ({"customerId": "1", "customerAttributes": {"lastOrderDate": "2024-10-16T08:13:29"}},
     "customerAttributes.lastOrderDate: Has no time zone; add one, e.g. 2025-03-14T10:00:00Z."),
    ({"customerId": "1", "customerAttributes": {"lastOrderDate": "last week"}},
     "customerAttributes.lastOrderDate: Not a valid date-time; expected ISO 8601 with a time "
     "zone, e.g. 2025-03-14T10:00:00Z."),
    ({"customerId": "1", "customerAttributes": {"zip": "x" * 17}},
     "customerAttributes.zip: Longer than maximum length 16."),
    ({"customerId": "1", "customerAttributes": {"utms": "utm_source=x"}},
     "customerAttributes.utms: Not a valid list."),
    ({"customerId": "1", "customerAttributes": {"devices": [None]}},
     "customerAttributes.devices.0: Field may not be null."),
    ({"customerId": "1", "customerAttributes": {"paymentMethods": ["card"] * 51}},
     "customerAttributes.paymentMethods: Too many items: 51; at most 50."),
    ({"customerId": "1", "customerAttributes": {"devices": [{"a": {"b": {"c": [1]}}}]}},
     "customerAttributes.devices: Nested too deeply; at most 4 levels."),
    ({"customerId": "1", "customerAttributes": {"utms": ["x" * 9000]}},
     "customerAttributes.utms: Too large: 9004 bytes as JSON; at most 8192."),
    ({"customerId": "1", "deviceToken": "t" * 513}, "deviceToken: Longer than maximum length 512."),
    ({"customerId": "1", "osType": 7}, "osType: Not a valid string."),
    ({"customerId": "1", "referrerCode": "r" * 129}, "referrerCode: Longer than maximum length 128."),
    ({"customerId": "1", "customerAttributes": {"city": "Cai\x00ro"}},
     "customerAttributes: Contains a NUL character or a lone surrogate at "
     "customerAttributes.city."),
])
def test_the_documents_shape_is_as_strict_as_the_seeds(record, message):
    assert refusal(record) == message


def test_null_inside_customer_attributes_clears_the_field():
    assert customer_schema.load({"customerId": "1", "customerAttributes": {"city": None}}) == {
        "customerId": "1", "city": None}
