"""Turning a CSV row into a record, by its header and the operation's record schema.

A CSV cell is text, and the record schemas are strict about JSON types (an amount is a JSON
number, ``guest`` a JSON boolean). So each column is typed by the schema field its name
leads to, read once per header:

- a dotted name builds nested fields: ``custom.tier`` is ``{"custom": {"tier": ...}}``,
  through a nested schema's fields or an object's keys, at any depth;
- text fields (strings, dates, e-mail) take the cell as it is;
- numbers and booleans take the cell as JSON (``12.5``, ``true``); a cell that is not one is
  passed as text, and the schema says what is wrong with it;
- a list takes its items separated by ``;`` (``vip;newsletter``, each item typed like a
  cell), or a JSON array (``["a;b"]``) when an item holds a ``;``;
- an object, or a free-form value (``custom.*``), takes the cell as JSON when it is JSON
  (a number, ``true``, an object...), else as text: ``"00123"`` (with its quotes, doubled in
  CSV) keeps leading zeros;
- an empty cell leaves its field out (to clear a field, send null in NDJSON);
- a column no field has keeps its text, and the schema refuses it as an unknown field.

The service converts uploaded CSV rows with it, and the CLI the rows of a CSV it sends as
JSON requests, so a file means the same both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from marshmallow import Schema, fields

Convert = Callable[[str], Any]


class CsvRowError(ValueError):
    """A row that makes no record (its cells do not match its header); the message says why."""


class CsvRecords:
    """The records of CSV rows under one ``header``, for records of ``schema``."""

    def __init__(self, schema: Schema, header: Sequence[str]) -> None:
        self.header = list(header)
        self._columns = [(tuple(name.split(".")), _converter(schema, name.split(".")))
                         for name in self.header]

    def record(self, cells: Sequence[str]) -> dict[str, Any]:
        """Return the record of one row's cells; CsvRowError if they do not fit the header."""
        if len(cells) != len(self._columns):
            raise CsvRowError(f"record: The row has {len(cells)} cells; the header names "
                              f"{len(self._columns)} columns.")
        record: dict[str, Any] = {}
        for (path, convert), cell in zip(self._columns, cells):
            if cell != "":
                _put(record, path, convert(cell))
        return record


def _put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in ``record``, making the objects on the way."""
    target = record
    for depth, key in enumerate(path[:-1]):
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise CsvRowError(f"{'.'.join(path[:depth + 1])}: Given both as a value and by its "
                              "fields.")
    if path[-1] in target:
        raise CsvRowError(f"{'.'.join(path)}: Given both as a value and by its fields.")
    target[path[-1]] = value


def _converter(schema: Schema, path: list[str]) -> Convert:
    """Return how to read a cell of the column named by ``path`` (its dotted name's parts)."""
    field: fields.Field | None = _by_key(schema).get(path[0])
    for key in path[1:]:
        if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            field = _by_key(field.schema).get(key)
        elif isinstance(field, fields.Dict):
            field = field.value_field or fields.Raw()
        elif isinstance(field, fields.Raw) and type(field) is fields.Raw:
            continue  # inside a free-form value: any key
        else:
            return _text  # no field has this name: the schema names the unknown field
    return _for_field(field)


def _by_key(schema: Schema) -> dict[str, fields.Field]:
    return {field.data_key or name: field for name, field in schema.load_fields.items()}


def _for_field(field: fields.Field | None) -> Convert:
    if field is None:
        return _text
    if isinstance(field, fields.Boolean):
        return _boolean
    if isinstance(field, fields.Number):
        return _number
    if isinstance(field, fields.List):
        return _list_of(_for_field(field.inner))
    if isinstance(field, (fields.Dict, fields.Nested)):
        return _object
    if type(field) is fields.Raw or not isinstance(field, (fields.String, fields.Date,
                                                             fields.DateTime)):
        return _json
    return _text


def _text(cell: str) -> str:
    return cell


def _json(cell: str) -> Any:
    """Return the cell's JSON value, or the cell itself if it is not JSON."""
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        return cell


def _boolean(cell: str) -> Any:
    lowered = cell.strip().lower()
    return {"true": True, "false": False}.get(lowered, cell)


def _number(cell: str) -> Any:
    value = _json(cell.strip())
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else cell


def _object(cell: str) -> Any:
    value = _json(cell)
    return value if isinstance(value, dict) else cell


def _list_of(item: Convert) -> Convert:
    def convert(cell: str) -> Any:
        if cell.lstrip().startswith("["):
            value = _json(cell)
            if isinstance(value, list):
                return value
        return [item(part.strip()) for part in cell.split(";") if part.strip()]
    return convert
