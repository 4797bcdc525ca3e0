"""Hypothesis strategies for batch records: close to valid, wild, and any JSON at all."""

from __future__ import annotations

import string
from datetime import datetime, timezone

from hypothesis import strategies as st

from schemas.envelope import OBJECT_RECORDS

# Any text, NUL and lone surrogates included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | any_text)
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                           | st.dictionaries(any_text, children, max_size=5), max_leaves=30)

printable_text = st.text(string.printable, max_size=20)

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
    "amount": st.integers(1, 10**6) | st.integers(-(10**13), 10**13) | st.floats(-1e13, 1e13),
    "points": st.integers(1, 10**6) | st.integers(-(10**13), 10**13),
    "events": st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8),
                              st.dictionaries(st.text(string.ascii_letters, min_size=1,
                                                      max_size=8), scalars, max_size=3),
                              max_size=3),
    # The published document's profile attributes.
    "channel": st.sampled_from(["mobile", "pos", "web", "callcenter", "email"]),
    "lastOrderDate": st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat),
    "totalSpent": st.integers(-1, 10**13) | st.floats(0, 1e13),
    "avgOrderAmount": st.floats(-1, 1e6),
    "totalOrders": st.integers(-1, 10**10),
    **{name: st.lists(json_values, max_size=3) for name in ("utms", "devices", "paymentMethods")},
}
plausible["customerAttributes"] = st.fixed_dictionaries({}, optional={
    name: plausible.get(name, st.none() | printable_text)
    for name in ("email", "firstName", "gender", "dateOfBirth", "zip", "source", "utms",
                 "devices", "paymentMethods", "totalSpent", "lastOrderDate", "totalOrders",
                 "avgOrderAmount", "channel", "custom", "tags")})


def near_valid_records_for(schema) -> st.SearchStrategy:
    """Records with the schema's fields, each holding a value that often passes."""
    fields = [name for name in schema.fields if name != "customerId"]
    required = [name for name in fields if schema.fields[name].required]
    customer = ({"customerId": st.text(string.ascii_letters + string.digits + "-_", min_size=1,
                                       max_size=40)} if "customerId" in schema.fields else {})
    return st.fixed_dictionaries(
        {**customer, **{name: plausible.get(name, printable_text) for name in required}},
        optional={name: plausible.get(name, st.none() | printable_text) for name in fields
                  if name not in required})


def records_for(schema) -> st.SearchStrategy:
    """Records close to valid, records with any values in its fields, and any JSON at all."""
    fields = [name for name in schema.fields if name != "customerId"]
    near_valid = near_valid_records_for(schema)
    customer = ({"customerId": json_values | st.text(max_size=130)}
                if "customerId" in schema.fields else {})
    wild = st.fixed_dictionaries(
        customer,
        optional={name: json_values | plausible.get(name, printable_text) for name in fields})
    return near_valid | wild | json_values | st.dictionaries(any_text, json_values, max_size=4)


def records_of(operation, *, near_valid: bool = False) -> st.SearchStrategy:
    """Records as a request carries them for ``operation`` (objects, or ids alone), loaded
    with ``operation.load``; with ``near_valid``, weighted towards records it accepts."""
    if operation.record_type == OBJECT_RECORDS:
        strategy = records_for(operation.schema)
        return near_valid_records_for(operation.schema) | strategy if near_valid else strategy
    key = plausible.get(operation.key_field, printable_text)
    return (key | key | any_text | json_values) if near_valid else (any_text | key | json_values)
