"""A fast path for loading the records a marshmallow schema accepts as they are.

``schema.load`` spends most of its time per record in marshmallow's machinery around the
checks rather than in the checks: a worker would spend more time there than PostgreSQL
spends storing the record. ``FastLoader`` compiles a schema's declared fields,
once, into the source of one plain Python function (readable as ``FastLoader.source``),
much as fastjsonschema compiles a JSON Schema. For a record that is a plain dict whose
values have the expected JSON types, that function runs the schema's own pieces (each
field's ``_deserialize`` where one is needed, each field's validators, the schema's
``@pre_load``, ``@validates``, ``@validates_schema`` and ``@post_load`` methods) in
marshmallow's order, without the machinery, and returns exactly what ``schema.load``
returns. A nested schema gets a fast loader of its own, called where the field would load
it. The common validators (Length, OneOf,
Range, Regexp, and Email for plain ASCII addresses) become comparisons in that source;
any other is called. For anything else (a missing required field, an unknown one, a
wrong type, a failing rule, a schema feature it does not model) it answers ``None``, and
the caller runs ``schema.load``, which gives the result or the error messages. Rules and
messages are therefore written in one place only: the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

# Plain ASCII addresses, the common case: a strict subset of what validate.Email accepts (its
# dot-atom user part and its domain labels, restricted to ASCII), checked in a fraction of
# the time its Unicode-wide expressions take. Anything else goes to the validator itself.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}")

# Fields whose values are JSON strings, loaded as they are.
_TEXT_FIELDS = (fields.String, fields.Email)


class Unsupported(Exception):
    """The schema uses a feature the compiled path does not model: always use ``load``."""


class FastLoader:
    """``load(record)``: the schema's result for a record it accepts as is, else ``None``.

    ``load`` is the compiled function itself (no call around it: it runs once per record),
    or, for a schema it cannot model, one that is never sure.
    """

    load: Callable[[Any], dict | None]

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        try:
            self.source, self.load = _compile(schema)
        except Unsupported:
            self.source, self.load = None, _never_sure
        self.enabled = self.source is not None

    def load_or_raise(self, record: Any) -> dict:
        """Return ``schema.load(record)``, through the fast path when it can; raise as it does."""
        loaded = self.load(record)
        return loaded if loaded is not None else self.schema.load(record)


def _never_sure(record: Any) -> None:
    return None


class _Source:
    """The compiled function's lines, and the objects its source refers to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"ValidationError": ValidationError,
                                          "_MISSING": missing, "_RAISE": RAISE}

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def refuse_if(self, depth: int, condition: str) -> None:
        self.add(depth, f"if {condition}: return None")

    def bind(self, value: Any, hint: str) -> str:
        """Return a name the source can use for ``value`` (ints are written as literals)."""
        if type(value) is int:
            return repr(value)
        name = f"_{hint}{len(self.namespace)}"
        self.namespace[name] = value
        return name


def _compile(schema: Schema) -> tuple[str, Callable[[Any], dict | None]]:
    """Return the source of the schema's fast loader and the function it defines."""
    hooks = schema._hooks  # marshmallow's registry of decorated methods
    if schema.many or schema.partial or schema.unknown != RAISE:
        raise Unsupported
    src = _Source()
    src.add(0, "def load(record):")
    src.refuse_if(1, "type(record) is not dict")
    # Every refusal of a step marshmallow runs (a hook, a field's conversion, a validator)
    # is a ValidationError: the schema then gives the messages.
    src.add(1, "try:")
    for hook in _per_record_hooks(src, schema, PRE_LOAD):
        src.add(2, f"record = {hook}(record, many=False, partial=None, unknown=_RAISE)")
        src.refuse_if(2, "type(record) is not dict")
    src.add(2, "get = record.get")
    src.add(2, "result = {}")
    loaded = schema.load_fields
    src.add(2, f"known = {sum(1 for field in loaded.values() if field.required)}")
    for name, field in loaded.items():  # in the schema's order, as marshmallow fills its result
        _emit_field(src, field, _data_key(field, name), field.attribute or name)
    # More keys than known fields found: one of them is an unknown field.
    src.refuse_if(2, "known != len(record)")
    for attr_name, _, kwargs in hooks[VALIDATES]:
        method = src.bind(getattr(schema, attr_name), "validates")
        for field_name in kwargs["field_names"]:
            field = schema.fields.get(field_name)
            if field is None:
                raise Unsupported
            attribute = repr(field.attribute or field_name)
            src.add(2, f"if {attribute} in result:")
            src.add(3, f"{method}(result[{attribute}], data_key={_data_key(field, field_name)!r})")
    # Then the schema's own validators, as Schema._do_load calls them for one record.
    for method in _per_record_hooks(src, schema, VALIDATES_SCHEMA):
        src.add(2, f"{method}(result, partial=None, many=False, unknown=_RAISE)")
    # Then, the record being valid, what the schema makes of it.
    for hook in _per_record_hooks(src, schema, POST_LOAD):
        src.add(2, f"result = {hook}(result, many=False, partial=None, unknown=_RAISE)")
    src.add(2, "return result")
    src.add(1, "except ValidationError:")
    src.add(2, "return None")
    source = "\n".join(src.lines) + "\n"
    exec(compile(source, f"<fast loader of {type(schema).__name__}>", "exec"),  # noqa: S102
         src.namespace)
    return source, src.namespace["load"]


def _per_record_hooks(src: _Source, schema: Schema, tag: str) -> list[str]:
    """Bind the schema's ``tag`` hooks; refuse those given the collection or the original."""
    names = []
    for attr_name, many, kwargs in schema._hooks[tag]:
        if many or kwargs.get("pass_original") or kwargs.get("pass_collection"):
            raise Unsupported
        names.append(src.bind(getattr(schema, attr_name), tag))
    return names


def _data_key(field: fields.Field, name: str) -> str:
    return field.data_key if field.data_key is not None else name


def _emit_field(src: _Source, field: fields.Field, key: str, attribute: str) -> None:
    """Load ``record[key]`` into ``result[attribute]``, as Schema._deserialize does."""
    if field.load_default is not missing or field.pre_load or field.post_load:
        raise Unsupported
    src.add(2, f"value = get({key!r}, _MISSING)")
    if field.required:
        src.refuse_if(2, "value is _MISSING")
        depth = 2
    else:
        src.add(2, "if value is not _MISSING:")
        src.add(3, "known += 1")
        depth = 3
    _emit_value(src, field, "value", key, depth)
    src.add(depth, f"result[{attribute!r}] = value")


def _emit_value(src: _Source, field: fields.Field, var: str, key: str, depth: int) -> None:
    """Emit what Field.deserialize does to ``var``: it refuses, or leaves the loaded value."""
    kind = type(field)
    plain_dict = kind is fields.Dict and field.value_field is None and (
        field.key_field is None or type(field.key_field) is fields.String)
    nested = _nested_loader(field) if kind is fields.Nested else None
    if field.allow_none:
        src.add(depth, f"if {var} is not None:")
        depth += 1
    elif not (kind in _TEXT_FIELDS or kind is fields.List or plain_dict or nested):
        src.refuse_if(depth, f"{var} is None")  # the others' type tests refuse None anyway
    if kind in _TEXT_FIELDS:
        src.refuse_if(depth, f"type({var}) is not str")
    elif kind is fields.List:
        src.refuse_if(depth, f"type({var}) is not list")
        _emit_items(src, field.inner, var, key, depth)
    elif plain_dict:
        src.refuse_if(depth, f"type({var}) is not dict")
        if field.key_field is not None:
            name = f"key{depth}"
            src.add(depth, f"for {name} in {var}:")
            src.refuse_if(depth + 1, f"type({name}) is not str")
            _emit_validators(src, field.key_field.validators, name, depth + 1, text=True)
        # Mapping._deserialize returns a copy of the mapping, keys as they are.
        src.add(depth, f"{var} = {src.bind(field.mapping_type, 'mapping')}({var})")
    elif nested is not None:
        # The nested schema's own fast loader: None (not sure) makes the record not sure.
        src.add(depth, f"{var} = {src.bind(nested, 'nested')}({var})")
        src.refuse_if(depth, f"{var} is None")
    else:
        # Any other field: its own conversion, in the field's order of steps.
        convert = src.bind(field._deserialize, "deserialize")
        src.add(depth, f"{var} = {convert}({var}, {key!r}, record)")
    _emit_validators(src, field.validators, var, depth, text=kind in _TEXT_FIELDS)


def _nested_loader(field: fields.Nested) -> Callable[[Any], dict | None] | None:
    """Return the compiled loader of the schema ``field`` nests, if it loads it as is.

    Nested._deserialize loads one object with the nested schema as it stands; a field that
    narrows it (``only``, ``exclude``), loads a list, or overrides ``unknown`` is called.
    """
    if field.many or field.only is not None or field.exclude or field.unknown is not None:
        return None
    schema = field.schema
    if schema.many or schema.only is not None or schema.exclude:
        return None
    loader = FastLoader(schema)
    return loader.load if loader.enabled else None


def _emit_items(src: _Source, inner: fields.Field, var: str, key: str, depth: int) -> None:
    """Emit List._deserialize: each item loaded by the inner field, into a new list."""
    item = f"item{depth}"
    if type(inner) in _TEXT_FIELDS and not inner.allow_none:
        # Strings load as themselves: check them in place, then copy the list at C speed.
        src.add(depth, f"for {item} in {var}:")
        _emit_value(src, inner, item, key, depth + 1)
        src.add(depth, f"{var} = list({var})")
        return
    items = f"items{depth}"
    src.add(depth, f"{items} = []")
    src.add(depth, f"for {item} in {var}:")
    _emit_value(src, inner, item, key, depth + 1)
    src.add(depth + 1, f"{items}.append({item})")
    src.add(depth, f"{var} = {items}")


def _emit_validators(src: _Source, validators: list, var: str, depth: int, *, text: bool) -> None:
    """Emit each validator, as Field._validate runs them: comparisons where they are known.

    ``text`` says the value is a str, so the text validators can be compared in place.
    """
    for validator in validators:
        kind = type(validator)
        if kind is validate.Length:
            if validator.equal is not None:
                src.refuse_if(depth, f"len({var}) != {src.bind(validator.equal, 'length')}")
                continue
            low, high = validator.min, validator.max
            if low is not None and high is not None:  # one len() call, not two
                src.refuse_if(depth, f"not {src.bind(low, 'length')} <= len({var}) <= "
                                     f"{src.bind(high, 'length')}")
            elif low is not None:
                src.refuse_if(depth, f"len({var}) < {src.bind(low, 'length')}")
            elif high is not None:
                src.refuse_if(depth, f"len({var}) > {src.bind(high, 'length')}")
        elif kind is validate.Range:
            if validator.min is not None:
                below = "<" if validator.min_inclusive else "<="
                src.refuse_if(depth, f"{var} {below} {src.bind(validator.min, 'minimum')}")
            if validator.max is not None:
                above = ">" if validator.max_inclusive else ">="
                src.refuse_if(depth, f"{var} {above} {src.bind(validator.max, 'maximum')}")
        elif kind is validate.OneOf and text:
            src.refuse_if(depth, f"{var} not in {src.bind(validator.choices, 'choices')}")
        elif kind is validate.Regexp and text:
            src.refuse_if(depth, f"{src.bind(validator.regex.match, 'match')}({var}) is None")
        elif kind is validate.Email and text:
            plain = src.bind(PLAIN_EMAIL.fullmatch, "plain_email")
            src.add(depth, f"if {plain}({var}) is None:")
            src.add(depth + 1, f"{src.bind(validator, 'email')}({var})")
        else:
            # Any other validator refuses by raising (marshmallow 4 ignores what it returns).
            src.add(depth, f"{src.bind(validator, 'validator')}({var})")
