"""The validation fast path agrees with schema.load, and takes the common valid records."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from app.catalogue import OPERATIONS
from bench.data import customer
from schemas.customers import (
    CHANNELS,
    SHARED_FIELDS,
    CustomerAttributesSchema,
    CustomerSchema,
    customer_schema,
)
from schemas.envelope import STRING_RECORDS, envelope_loader
from schemas.fastpath import PLAIN_EMAIL, FastLoader
from tests.support.records import records_for

FAST = FastLoader(customer_schema)

# Strings near every limit the schema has, and text PostgreSQL refuses.
TEXT = st.one_of(
    st.text(max_size=8),
    st.text(min_size=60, max_size=70),
    st.integers(min_value=0, max_value=300).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "M", "F", "O", "Other", "m", "a@b.co", "a@b", "x@example.com",
                     "1990-01-01", "2023-02-29", "19900101", "2024-02-29", "a\x00b", "b\ud800",
                     "\\u0000", "é@example.com"]),
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(allow_nan=False),
                   TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
VALUE = st.one_of(SCALAR, st.lists(TEXT, max_size=4), st.dictionaries(TEXT, JSON, max_size=4),
                  JSON)
FIELDS = [*customer_schema.fields, "nickname"]
ATTRIBUTE_FIELDS = [*CustomerAttributesSchema().fields, "nickname"]
NUMBER = st.one_of(st.integers(-1, 10**13), st.floats(allow_nan=False), st.just("10"))
# Values near the rules of the published document's attributes.
ATTRIBUTE_VALUES = {
    "zip": st.sampled_from(["12345", "x" * 17, ""]),
    "channel": st.sampled_from([*CHANNELS, "email", None]),
    "totalSpent": NUMBER, "avgOrderAmount": NUMBER,
    "totalOrders": st.one_of(st.integers(-1, 10**10), st.floats(0, 5), st.booleans()),
    "lastOrderDate": st.sampled_from(["2024-10-16T08:13:29.290Z", "2024-10-16T08:13:29",
                                      "2024-13-01T00:00:00Z", "yesterday"]),
    **{name: st.one_of(st.lists(JSON, max_size=3), VALUE)
       for name in ("utms", "devices", "paymentMethods")},
}


@st.composite
def records(draw):
    """A record that starts valid, then has some fields replaced by anything at all; in
    the seed's flat shape, the document's nested one, or both at once."""
    record = customer(draw(st.sampled_from(["p", "q"])), draw(st.integers(0, 10**6)),
                      draw(st.integers(0, 3)))
    shape = draw(st.sampled_from(["flat", "nested", "both"]))
    if shape != "flat":
        attributes = {name: record[name] for name in SHARED_FIELDS if name in record}
        if shape == "nested":
            record = {k: v for k, v in record.items() if k not in attributes}
        for name in draw(st.lists(st.sampled_from(ATTRIBUTE_FIELDS), max_size=3)):
            if draw(st.booleans()):
                attributes[name] = draw(ATTRIBUTE_VALUES.get(name, VALUE))
            else:
                attributes.pop(name, None)
        record["customerAttributes"] = attributes
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        if draw(st.booleans()):
            record[name] = draw(VALUE)
        else:
            record.pop(name, None)
    return record


def agree(loader: FastLoader, schema: Schema, record) -> bool:
    """Assert the fast path says nothing or what the schema says; tell whether it spoke."""
    fast = loader.load(record)
    if fast is None:
        return False
    try:
        loaded = schema.load(record)
    except ValidationError as error:  # pragma: no cover - the failure we look for
        pytest.fail(f"fast path accepted what the schema refuses: {error.messages}")
    # repr, not ==: True == 1 and 1.0 == 1, and a type must not change either.
    assert repr(sorted(fast.items())) == repr(sorted(loaded.items()))
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_fast_path_agrees_with_schema_load(record):
    agree(FAST, customer_schema, record)


def nested(record: dict) -> dict:
    """Return ``record`` in the published document's shape (its profile nested)."""
    attributes = {name: record[name] for name in SHARED_FIELDS if name in record}
    flat = {k: v for k, v in record.items() if k not in attributes or k in ("email",)}
    return {**flat, "customerAttributes": attributes}


def test_fast_path_takes_the_common_valid_records():
    records_ = [customer("c", n, version) for n in range(200) for version in (0, 1)]
    records_ += [nested(customer("d", n)) for n in range(100)]
    records_.append({"customerId": "1", "email": None, "tags": None, "custom": None})
    records_.append({"customerId": "1", "guest": True, "custom": {"a": {"b": [1, "x"]}}})
    records_.append({"customerId": "1", "deviceToken": "t", "osType": "ios", "customerAttributes": {
        "zip": "11511", "utms": ["utm_source=x"], "devices": [{"os": "ios"}], "totalSpent": 10,
        "totalOrders": 2, "avgOrderAmount": 5.5, "lastOrderDate": "2024-10-16T08:13:29.290Z",
        "channel": "pos", "source": "shop", "paymentMethods": []}})
    assert all(agree(FAST, customer_schema, r) for r in records_)
    assert FAST.load(customer("c", 1))["dateOfBirth"] == dt.date(1951, 2, 2)
    # Both shapes load into the same flat profile.
    assert FAST.load(nested(customer("c", 1))) == FAST.load(customer("c", 1))


ENVELOPE = envelope_loader(3)
ID_ENVELOPE = envelope_loader(3, STRING_RECORDS)
BODIES = st.lists(st.one_of(st.dictionaries(TEXT, SCALAR, max_size=2), SCALAR), max_size=5)


@pytest.mark.parametrize("envelope", [ENVELOPE, ID_ENVELOPE], ids=["objects", "strings"])
@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, st.fixed_dictionaries({"body": st.one_of(VALUE, BODIES)}),
                 st.fixed_dictionaries({"body": st.lists(TEXT, max_size=5)}),
                 st.fixed_dictionaries({"body": BODIES, "extra": SCALAR})))
def test_envelope_fast_path_agrees_with_schema_load(envelope, payload):
    agree(envelope, envelope.schema, payload)


def test_envelope_fast_path_takes_valid_bodies():
    assert agree(ENVELOPE, ENVELOPE.schema, {"body": [customer("e", 1), {}, {"x": [1]}]})
    assert ENVELOPE.load({"body": [{}, {}, {}, {}]}) is None  # too many: the schema says so
    assert agree(ID_ENVELOPE, ID_ENVELOPE.schema, {"body": ["ORDER-001", "", "x"]})
    assert ID_ENVELOPE.load({"body": [{}]}) is None


@pytest.mark.parametrize("record", [
    "not a dict", {"email": "a@b.co"}, {"customerId": "1", "nickname": "x"},
    {"customerId": " "}, {"customerId": "1", "email": "nope"}, {"customerId": "1", "tags": [1]},
    {"customerId": "1", "custom": {"": 1}}, {"customerId": "1", "city": "a\x00"},
    {"customerId": "1", "guest": "yes"}, {"customerId": "1", "joinDate": "2023-02-29"},
    {"customerId": "1", "custom": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}},
    {"customerId": "1", "custom": {f"k{i}": i for i in range(101)}},
    {"customerId": "1", "custom": {"blob": "x" * 20_000}}, {"customerId": "1", "tags": ["x"] * 101},
    {"customerId": "1", "customerAttributes": None}, {"customerId": "1", "customerAttributes": []},
    {"customerId": "1", "firstName": "A", "customerAttributes": {"firstName": "B"}},
    {"customerId": "1", "customerAttributes": {"nickname": "x"}},
    {"customerId": "1", "customerAttributes": {"totalOrders": 1.0}},
    {"customerId": "1", "customerAttributes": {"utms": [None]}},
])
def test_fast_path_leaves_refusals_to_the_schema(record):
    assert FAST.load(record) is None


def test_schemas_with_features_it_does_not_model_always_use_load():
    class WithOriginal(Schema):
        name = fields.String(validate=validate.Length(max=3))

        @post_load(pass_original=True)
        def upper(self, data, original, **kwargs):
            return {k: v.upper() for k, v in data.items()}

    class WithDefault(CustomerSchema):
        country = fields.String(load_default="EG")

    assert FastLoader(WithOriginal()).load({"name": "abc"}) is None
    assert FastLoader(WithDefault()).load({"customerId": "1"}) is None


def test_a_nested_schema_it_cannot_take_as_is_is_loaded_by_the_field():
    class Part(Schema):
        a = fields.String()
        b = fields.String()

    class Narrowed(Schema):
        part = fields.Nested(Part, only=("a",))

    loader = FastLoader(Narrowed())
    assert loader.enabled and "_nested" not in loader.source
    assert agree(loader, loader.schema, {"part": {"a": "x"}})
    assert loader.load({"part": {"b": "x"}}) is None


@settings(max_examples=500, deadline=None)
@given(st.from_regex(PLAIN_EMAIL, fullmatch=True))
def test_every_plain_address_is_one_marshmallow_accepts(address):
    # The inline test may only take a short cut to "accepted", never decide differently.
    assert validate.Email()(address) == address


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operations_fast_path_agrees_with_schema_load(name):
    schema = OPERATIONS[name].schema
    loader = FastLoader(schema)
    assert loader.enabled
    spoke = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(record=records_for(schema))
    def agrees(record):
        spoke.append(agree(loader, schema, record))
    agrees()
    assert any(spoke), "the fast path took no record at all"


def is_even(value):
    if value % 2:
        raise ValidationError("Must be even.")


class Part(Schema):
    """A nested object, with rules of its own."""

    name = fields.String(required=True, validate=validate.Length(max=2))
    count = fields.Integer(strict=True)

    @validates_schema
    def not_zero(self, data, **kwargs):
        if data.get("count") == 0:
            raise ValidationError("Not zero.", "count")


class EveryKindOfField(Schema):
    """A field of each shape the compiled path models, and of some it only calls."""

    code = fields.String(required=True, data_key="Code", attribute="code_attr",
                         validate=[validate.Length(equal=3), validate.Regexp(r"[A-Z]")])
    level = fields.Integer(strict=True, validate=[validate.Range(min=0, max=10,
                                                                 max_inclusive=False),
                                                  validate.OneOf([1, 2, 3, 8])])
    ratio = fields.Float(allow_none=True, validate=validate.Range(min=0, min_inclusive=False))
    even = fields.Integer(strict=True, validate=is_even)
    numbers = fields.List(fields.Integer(strict=True, validate=validate.Range(max=5)))
    words = fields.List(fields.String(allow_none=True), validate=validate.Length(min=1))
    labels = fields.Dict(keys=fields.String(validate=validate.Length(max=2)))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True))
    contact = fields.Email(validate=validate.Length(min=6))
    part = fields.Nested(Part)
    maybe = fields.Nested(Part, allow_none=True)

    @pre_load
    def strip_code(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("Code"), str):
            return {**data, "Code": data["Code"].strip()}
        return data

    @validates("level")
    def not_three(self, value, data_key):
        if value == 3:
            raise ValidationError("Not three.")

    @validates_schema
    def not_both(self, data, **kwargs):
        if data.get("ratio") is not None and "even" in data:
            raise ValidationError("Not both.", "ratio")

    @post_load
    def flatten(self, data, **kwargs):
        return {**{k: v for k, v in data.items() if k != "part"}, **data.get("part", {})}


SMALL = st.one_of(st.none(), st.booleans(), st.integers(-2, 11), st.floats(-1, 2),
                  st.sampled_from(["", "a", "AB", " ABC ", "abc", "aBc", "x@y.io", "é@x.io",
                                   "a@b", "ab@cd.ef", "1.5"]))
FIELD_VALUES = st.one_of(SMALL, st.lists(SMALL, max_size=3),
                         st.dictionaries(st.sampled_from(["", "a", "ab", "abc"]), SMALL,
                                         max_size=3),
                         st.dictionaries(st.sampled_from(["name", "count", "x"]), SMALL,
                                         max_size=3))
KEYS = ["Code", "code", "code_attr", "level", "ratio", "even", "numbers", "words", "labels",
        "counts", "contact", "part", "maybe"]


EVERY_KIND = FastLoader(EveryKindOfField())


@settings(max_examples=1500, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(KEYS), FIELD_VALUES, max_size=7))
def test_every_kind_of_field_agrees_with_schema_load(record):
    agree(EVERY_KIND, EVERY_KIND.schema, record)


def test_every_kind_of_field_takes_valid_records():
    valid = [{"Code": " AbC", "level": 8, "ratio": None, "even": 4, "numbers": [5, -1],
              "words": ["a", None], "labels": {"ab": [1]}, "counts": {"a": 1},
              "contact": "ab@cd.ef"},
             {"Code": "Zzz"}, {"Code": "Q Q ", "ratio": 0.5, "contact": "é@example.com"},
             {"Code": "Zzz", "part": {"name": "ab", "count": 2}, "maybe": None}]
    assert all(agree(EVERY_KIND, EVERY_KIND.schema, r) for r in valid)
    assert EVERY_KIND.load({"Code": "Zzz"}) == {"code_attr": "Zzz"}
    # The nested object loaded by its own fast loader, then flattened by the @post_load.
    assert EVERY_KIND.load({"Code": "Zzz", "part": {"name": "ab"}}) == {"code_attr": "Zzz",
                                                                        "name": "ab"}
    assert "_validator" in EVERY_KIND.source  # is_even and the Dict of values are called
    assert "_nested" in EVERY_KIND.source  # Part has a compiled loader of its own


@pytest.mark.parametrize("record", [
    {"code": "ABC"}, {"Code": "ABCD"}, {"Code": "abc"}, {"Code": "ABC", "level": 10},
    {"Code": "ABC", "level": 3}, {"Code": "ABC", "level": 4}, {"Code": "ABC", "ratio": 0},
    {"Code": "ABC", "even": 3}, {"Code": "ABC", "numbers": [6]}, {"Code": "ABC", "words": []},
    {"Code": "ABC", "labels": {"abc": 1}}, {"Code": "ABC", "counts": {"a": "1"}},
    {"Code": "ABC", "contact": "a@b.c"}, {"Code": "ABC", "level": True},
    {"Code": "ABC", "ratio": 1.5, "even": 2}, {"Code": "ABC", "part": {"name": "abc"}},
    {"Code": "ABC", "part": {"name": "a", "count": 0}}, {"Code": "ABC", "part": None},
    {"Code": "ABC", "maybe": {"name": "a", "x": 1}}, {"Code": "ABC", "part": []},
])
def test_every_kind_of_field_leaves_refusals_to_the_schema(record):
    with pytest.raises(ValidationError):
        EVERY_KIND.schema.load(record)
    assert EVERY_KIND.load(record) is None
