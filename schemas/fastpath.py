"""A fast path for loading the records a marshmallow schema accepts as they are.

``schema.load`` costs about 40 µs per customer record, most of it marshmallow's machinery
around the checks rather than the checks: a worker spends more time there than PostgreSQL
spends storing the record. ``FastLoader`` is compiled once from a schema's declared fields.
For a record that is a plain dict whose values have the expected JSON types, it runs the
schema's own pieces (each field's ``_deserialize`` where one is needed, each field's own
validators, the schema's ``@pre_load`` and ``@validates`` methods) without the machinery,
and returns exactly what ``schema.load`` returns. For anything else (a missing required
field, an unknown one, a wrong type, a failing rule, a schema feature it does not model)
it answers ``None``, and the caller runs ``schema.load``, which gives the result or the
error messages. Rules and messages are therefore written in one place only: the schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

# A field loader returns the loaded value, or _REFUSE to send the record to schema.load.
_REFUSE = object()
FieldLoader = Callable[[Any, dict], Any]


class FastLoader:
    """``load(record)``: the schema's result for a record it accepts as is, else ``None``."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._fields: dict[str, tuple[str, FieldLoader]] = {}  # data key: (attribute, loader)
        self._required: frozenset[str] = frozenset()
        self._pre_load: list[Callable] = []
        self._validators: list[tuple[Callable, str, str]] = []  # (method, attribute, data key)
        self.enabled = self._compile(schema)

    def load_or_raise(self, record: Any) -> dict:
        """Return ``schema.load(record)``, through the fast path when it can; raise as it does."""
        loaded = self.load(record)
        return loaded if loaded is not None else self.schema.load(record)

    def load(self, record: Any) -> dict | None:
        """Return what ``schema.load(record)`` returns if the fast path is sure, else None."""
        if not self.enabled or type(record) is not dict:
            return None
        try:
            for hook in self._pre_load:
                record = hook(record, many=False, partial=None, unknown=RAISE)
        except ValidationError:
            return None
        if type(record) is not dict or not self._required.issubset(record):
            return None
        result = {}
        fields_by_key = self._fields
        for key, value in record.items():
            field = fields_by_key.get(key)
            if field is None:  # an unknown field: the schema names it
                return None
            loaded = field[1](value, record)
            if loaded is _REFUSE:
                return None
            result[field[0]] = loaded
        try:
            for method, attribute, data_key in self._validators:
                if attribute in result:
                    method(result[attribute], data_key=data_key)
        except ValidationError:
            return None
        return result

    def _compile(self, schema: Schema) -> bool:
        """Build the field loaders; return False if the schema uses what this cannot model."""
        hooks = schema._hooks  # noqa: SLF001 - marshmallow's registry of decorated methods
        if (schema.many or schema.partial or schema.unknown != RAISE or hooks[POST_LOAD]
                or hooks[VALIDATES_SCHEMA]):
            return False
        required = []
        for name, field in schema.load_fields.items():
            if field.load_default is not missing or field.pre_load or field.post_load:
                return False
            key = field.data_key if field.data_key is not None else name
            self._fields[key] = (field.attribute or name, _field_loader(field, key))
            if field.required:
                required.append(key)
        self._required = frozenset(required)
        for attr_name, many, kwargs in hooks[PRE_LOAD]:
            if many or kwargs.get("pass_original") or kwargs.get("pass_collection"):
                return False
            self._pre_load.append(getattr(schema, attr_name))
        for attr_name, _, kwargs in hooks[VALIDATES]:
            for field_name in kwargs["field_names"]:
                field = schema.fields.get(field_name)
                if field is None:
                    return False
                key = field.data_key if field.data_key is not None else field_name
                self._validators.append((getattr(schema, attr_name), field.attribute or field_name,
                                         key))
        return True


def _field_loader(field: fields.Field, key: str) -> FieldLoader:
    """Return the loader of one field: short cuts for strings, lists and mappings, else its own."""
    check = _validator_check(field.validators)
    allow_none = field.allow_none
    kind = type(field)
    bounds = _length_bounds(field.validators)
    if kind is fields.String and bounds is not None:
        # Most text fields: a length, or no rule at all, compared in place (no call per check).
        low, high = bounds
        def load_text(value, record):
            if type(value) is str:
                return value if low <= len(value) <= high else _REFUSE
            return None if value is None and allow_none else _REFUSE
        return load_text
    if kind in (fields.String, fields.Email):
        def load_string(value, record):
            if type(value) is str:
                return value if check(value) else _REFUSE
            return None if value is None and allow_none else _REFUSE
        return load_string
    if kind is fields.List:
        load_item = _field_loader(field.inner, key)
        def load_list(value, record):
            if type(value) is list:
                items = [load_item(item, record) for item in value]
                if any(item is _REFUSE for item in items) or not check(items):
                    return _REFUSE
                return items
            return None if value is None and allow_none else _REFUSE
        return load_list
    if kind is fields.Dict and field.value_field is None and (
            field.key_field is None or type(field.key_field) is fields.String):
        # Mapping._deserialize returns a shallow copy, its keys checked by the key field.
        check_key = _validator_check(field.key_field.validators) if field.key_field else None
        def load_mapping(value, record):
            if type(value) is dict:
                if check_key is not None and not all(type(k) is str and check_key(k)
                                                     for k in value):
                    return _REFUSE
                return dict(value) if check(value) else _REFUSE
            return None if value is None and allow_none else _REFUSE
        return load_mapping
    # Any other field: its own conversion, in the field's order of steps (see Field.deserialize).
    def load_other(value, record):
        if value is None:
            return None if allow_none else _REFUSE
        try:
            output = field._deserialize(value, key, record)  # noqa: SLF001
            return output if check(output) else _REFUSE
        except ValidationError:
            return _REFUSE
    return load_other


def _length_bounds(validators: list) -> tuple[int, float] | None:
    """Return (min, max) if the validators are one Length (or none), else None."""
    if not validators:
        return 0, math.inf
    if len(validators) == 1 and type(validators[0]) is validate.Length \
            and validators[0].equal is None:
        low, high = validators[0].min, validators[0].max
        return (0 if low is None else low), (math.inf if high is None else high)
    return None


def _accept(value: Any) -> bool:
    return True


def _passes(validator: Callable[[Any], Any], value: Any) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


# Plain ASCII addresses, the common case: a strict subset of what validate.Email accepts (its
# dot-atom user part and its domain labels, restricted to ASCII), checked in a fraction of
# the time its Unicode-wide expressions take. Anything else goes to the validator itself.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}")


def _validator_check(validators: list) -> Callable[[Any], bool]:
    """Return a function telling whether a value passes every validator, as marshmallow runs them.

    Length, OneOf and Email, the common ones, are checked inline; any other validator (and
    an address that is not a plain ASCII one) is called.
    """
    inline: list[Callable[[Any], bool]] = []
    called = []
    for validator in validators:
        bounds = _length_bounds([validator])
        if bounds is not None:
            inline.append(lambda v, low=bounds[0], high=bounds[1]: low <= len(v) <= high)
        elif type(validator) is validate.OneOf:
            inline.append(lambda v, choices=validator.choices: v in choices)
        elif type(validator) is validate.Email:
            inline.append(lambda v, validator=validator:
                          PLAIN_EMAIL.fullmatch(v) is not None or _passes(validator, v))
        else:
            called.append(validator)

    if not called:
        if not inline:
            return _accept
        if len(inline) == 1:
            return inline[0]
        return lambda value: all(test(value) for test in inline)

    def check(value: Any) -> bool:
        for test in inline:
            if not test(value):
                return False
        try:
            for validator in called:
                # marshmallow's rule: a plain function may also refuse by returning False.
                if validator(value) is False and not isinstance(validator, validate.Validator):
                    return False
        except ValidationError:
            return False
        return True
    return check
