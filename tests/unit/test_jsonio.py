"""Strict JSON parsing: what orjson lets through that the API refuses."""

from __future__ import annotations

import pytest

from app.web.jsonio import InvalidJSON, parse_json


@pytest.mark.parametrize("data", [
    b"[18446744073709551616]", b"[-9223372036854775809]", b"[" + b"9" * 5000 + b"]",
    b'{"a": {"b": 123456789012345678901234567890}}',
])
def test_integers_beyond_64_bits_are_refused_not_rounded(data):
    with pytest.raises(InvalidJSON):
        parse_json(data)


def test_64_bit_integers_and_long_digit_strings_pass_exactly():
    assert parse_json(b"[18446744073709551615, -9223372036854775808]") == [
        18446744073709551615, -9223372036854775808]
    assert parse_json(b'{"id": "123456789012345678901234567890"}') == {
        "id": "123456789012345678901234567890"}
