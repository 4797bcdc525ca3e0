"""The code a record its schema refused carries: what is wrong with it, in Gameball's terms."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from app.catalogue import OPERATIONS
from workers.engine import validation_code


def refusal(operation: str, record: object) -> int:
    with pytest.raises(ValidationError) as refused:
        OPERATIONS[operation].load(record)
    return validation_code(refused.value.messages).code


@pytest.mark.parametrize(("operation", "record", "code"), [
    ("customers", {"email": "no-id@example.com"}, 3000),
    ("cashback", {"customerId": "c", "transactionId": "t", "amount": 5}, 3000),
    ("customers", {"customerId": "c", "gender": "X"}, 3003),
    ("customers", {"customerId": "c", "shoeSize": 44}, 3003),
    ("customers", "not an object", 3003),
    ("cashback", {"customerId": "c", "transactionId": "t", "amount": 5,
                  "transactionTime": "yesterday"}, 9007),
    ("redeem", {"customerId": "c", "transactionId": "t", "points": 5,
                "transactionTime": "2025-13-40T00:00:00Z"}, 9007),
])
def test_a_refused_record_carries_the_code_of_what_is_wrong(operation, record, code):
    assert refusal(operation, record) == code
