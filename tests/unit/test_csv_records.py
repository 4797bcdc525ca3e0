"""A CSV row becomes a record typed by its operation's schema."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.catalogue import OPERATIONS
from schemas.csv_records import CsvRecords, CsvRowError


def records(operation: str, header: list[str]) -> CsvRecords:
    return CsvRecords(OPERATIONS[operation].schema, header)


def test_cells_are_typed_by_the_fields_their_column_names():
    customers = records("customers", ["customerId", "guest", "tags", "custom.tier",
                                      "custom.points", "custom.code", "dateOfBirth"])
    record = customers.record(["00042", "TRUE", "vip; news;", "gold", "1500", '"00123"',
                               "1990-01-31"])
    assert record == {"customerId": "00042", "guest": True, "tags": ["vip", "news"],
                      "custom": {"tier": "gold", "points": 1500, "code": "00123"},
                      "dateOfBirth": "1990-01-31"}
    assert OPERATIONS["customers"].load(record)["custom"] == record["custom"]


def test_numbers_and_nested_objects_of_other_operations():
    cashback = records("cashback", ["customerId", "transactionId", "transactionTime", "amount"])
    loaded = OPERATIONS["cashback"].load(
        cashback.record(["c-1", "t-1", "2025-03-14T10:00:00Z", "12.5"]))
    assert loaded["amount"] == Decimal("12.5") and loaded["transactionId"] == "t-1"
    events = records("events", ["customerId", "events.purchase.amount", "events.login"])
    assert events.record(["c-1", "99", "{}"]) == {
        "customerId": "c-1", "events": {"purchase": {"amount": 99}, "login": {}}}


def test_empty_cells_are_left_out_and_a_list_may_be_a_json_array():
    customers = records("customers", ["customerId", "email", "tags"])
    assert customers.record(["1", "", '["a;b", "c"]']) == {"customerId": "1",
                                                          "tags": ["a;b", "c"]}


def test_a_cell_its_field_cannot_take_is_left_for_the_schema_to_refuse():
    customers = records("customers", ["customerId", "guest", "colour"])
    record = customers.record(["1", "maybe", "blue"])
    assert record == {"customerId": "1", "guest": "maybe", "colour": "blue"}
    with pytest.raises(Exception, match="guest|colour"):
        OPERATIONS["customers"].load(record)


@pytest.mark.parametrize("header, cells, message", [
    (["customerId", "email"], ["1"], "The row has 1 cells; the header names 2 columns"),
    (["customerId", "custom", "custom.tier"], ["1", "plain", "gold"],
     "custom: Given both as a value and by its fields"),
    (["customerId", "custom.tier", "custom"], ["1", "gold", '{"tier": "silver"}'],
     "custom: Given both as a value and by its fields"),
])
def test_a_row_that_makes_no_record_says_why(header, cells, message):
    with pytest.raises(CsvRowError, match=message):
        records("customers", header).record(cells)
