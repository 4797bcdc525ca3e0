"""Fields and validators shared by the record schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

import orjson
from marshmallow import ValidationError, fields, validate

_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Larger than any real balance, well within bigint.
POINTS_MAX = 10**12
IDENTIFIER_MAX = 128


class CalendarDate(fields.Date):
    """A real calendar date written exactly ``YYYY-MM-DD``.

    Python's ``date.fromisoformat`` also takes ``YYYYMMDD`` and week dates; the API
    promises one format, so anything else fails with the same message.
    """

    default_error_messages = {"invalid": "Not a valid date; expected a real date as YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        if not isinstance(value, str) or not _CALENDAR_DATE.fullmatch(value):
            raise self.make_error("invalid")
        # What fields.Date does for its ISO format, without its generic steps: per record
        # and per date field, they cost more than the parse.
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, not "yes", 1 or "on"."""

    truthy = {True}
    falsy = {False}


_CONTAINERS = (dict, list)
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_depth(value: Any) -> int:
    """Return how deeply ``value`` nests objects and arrays (a scalar is 0)."""
    if type(value) is dict and _JSON_SCALARS.issuperset(map(type, value.values())):
        return 1  # the common case, a flat object of JSON scalars: one pass, at C speed
    depth, level = 0, [value]
    while level:
        containers = [v for v in level if isinstance(v, _CONTAINERS)]
        if not containers:
            break
        depth += 1
        level = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return depth


class JsonLimits:
    """Validate a free-form JSON object or array against size, depth and length limits.

    ``max_entries`` bounds an object's keys or an array's items; the depth counts the
    value itself as a level.
    """

    def __init__(self, *, max_bytes: int, max_depth: int, max_entries: int) -> None:
        self.max_bytes, self.max_depth, self.max_entries = max_bytes, max_depth, max_entries

    def __call__(self, value: dict | list) -> None:
        if len(value) > self.max_entries:
            noun = "keys" if isinstance(value, dict) else "items"
            raise ValidationError(f"Too many {noun}: {len(value)}; at most {self.max_entries}.")
        if json_depth(value) > self.max_depth:
            raise ValidationError(f"Nested too deeply; at most {self.max_depth} levels.")
        size = len(orjson.dumps(value))
        if size > self.max_bytes:
            raise ValidationError(f"Too large: {size} bytes as JSON; at most {self.max_bytes}.")


# Free-form JSON as the API document describes it. The service takes any JSON whose integers
# fit in 64 bits, as deep as a field's limits allow; the document promises a plainer part of
# that (scalars, and arrays or objects of scalars), so that whatever a client or a test
# generator builds from it is taken.
_SCALARS_DOC = ({"type": "string"}, {"type": "boolean"},
                {"type": "number", "minimum": -(2**63), "maximum": 2**63 - 1})
JSON_VALUE_DOC = {"anyOf": [*_SCALARS_DOC,
                            {"type": "array", "items": {"anyOf": list(_SCALARS_DOC)}},
                            {"type": "object", "additionalProperties": {"anyOf": list(_SCALARS_DOC)}}]}


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Set while loading values already known to hold only text PostgreSQL can store.
_TEXT_KNOWN_STORABLE: ContextVar[bool] = ContextVar("text_known_storable", default=False)


def storable_json(raw: bytes) -> bool:
    """Whether every string (and key) parsed from the JSON document ``raw`` is storable.

    orjson refuses invalid UTF-8, raw control characters and lone surrogates (escaped or
    not), so a NUL, written ``\\u0000``, is the only unstorable text it can parse: a
    document without that escape holds none. One search of the bytes, where checking each
    record would serialise it again.
    """
    return b"\\u0000" not in raw


@contextmanager
def text_known_storable(known: bool) -> Iterator[None]:
    """Within, when ``known``, loading skips the unstorable-text check (see ``storable_json``)."""
    token = _TEXT_KNOWN_STORABLE.set(known)
    try:
        yield
    finally:
        _TEXT_KNOWN_STORABLE.reset(token)


def text_checked_already() -> bool:
    """Whether the values being loaded are known to hold only storable text."""
    return _TEXT_KNOWN_STORABLE.get()


def unstorable_text_path(value: Any) -> str | None:
    """Return the path of the first string PostgreSQL cannot store (NUL, lone surrogate)."""
    # The common case at C speed: orjson refuses lone surrogates and writes NUL as \u0000,
    # so a value it serialises without that escape holds neither. Otherwise, walk to find it.
    try:
        if b"\\u0000" not in orjson.dumps(value):
            return None
    except (TypeError, orjson.JSONEncodeError):
        pass  # not serialisable as is (too deep, say): the walk decides
    return _unstorable_path(value)


def _unstorable_path(value: Any) -> str | None:
    """Walk with an explicit stack, not recursion: a record may nest a thousand levels."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _unstorable(item):
                return path
            continue
        if isinstance(item, dict):
            children = list(item.items())
        elif isinstance(item, list):
            children = list(enumerate(item))
        else:
            continue
        # Reversed onto the stack, so the first child is looked at first.
        for key, child in reversed(children):
            child_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _unstorable(key):
                return child_path
            stack.append((child_path, child))
    return None


class _NonNegativeJsonNumber:
    """What the number fields below share: a JSON number (not a string, not a boolean, which
    their marshmallow bases would convert) from 0 to ``maximum``."""

    def __init__(self, *, maximum: int = 10**12, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=0, max=maximum), **kwargs)

    def _json_number(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return value


class Money(_NonNegativeJsonNumber, fields.Decimal):
    """A non-negative amount of money as a JSON number, loaded as a Decimal."""

    default_error_messages = {"invalid": "Not a valid amount; expected a JSON number."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        return super()._deserialize(self._json_number(value), attr, data, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any):
        # As a JSON number: the API document serialises the Range bounds with this.
        number = super()._serialize(value, attr, obj, **kwargs)
        return None if number is None else float(number)


class JsonNumber(_NonNegativeJsonNumber, fields.Float):
    """A non-negative JSON number kept as sent, for figures stored as the client gave them
    (a profile's totals): ``100`` stays an integer and ``99.5`` a float."""

    default_error_messages = {"invalid": "Not a valid number; expected a JSON number."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        return self._json_number(value)


class Points(fields.Integer):
    """A whole number of points within +/- ``POINTS_MAX`` (signed unless ``minimum`` says)."""

    default_error_messages = {"invalid": "Not a valid number of points; expected a whole number."}

    def __init__(self, *, minimum: int = -POINTS_MAX, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=minimum, max=POINTS_MAX),
                         **kwargs)


class Timestamp(fields.AwareDateTime):
    """An ISO 8601 date-time with its time zone, e.g. ``2025-03-14T10:00:00Z``."""

    default_error_messages = {
        "invalid": "Not a valid date-time; expected ISO 8601 with a time zone, "
                   "e.g. 2025-03-14T10:00:00Z.",
        "invalid_awareness": "Has no time zone; add one, e.g. 2025-03-14T10:00:00Z.",
    }


def identifier(max_length: int = IDENTIFIER_MAX, **kwargs: Any) -> fields.String:
    """Return a field for an id (orderId, transactionId): a non-blank string."""
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   validate.Regexp(r".*\S", error="Must not be blank.")],
                         **kwargs)


class JsonScalar(fields.Raw):
    """A flat value: a string, a number within +/- 10^15, true, false or null."""

    LIMIT, TEXT_MAX = 10**15, 1024

    def __init__(self, **kwargs: Any) -> None:
        # Documented so that clients (and generated tests) send only what is accepted.
        any_of = [{"type": "string", "maxLength": self.TEXT_MAX},
                  {"type": "number", "minimum": -self.LIMIT, "maximum": self.LIMIT},
                  {"type": "boolean"}]
        super().__init__(allow_none=True, metadata={"anyOf": any_of, "nullable": True},
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and len(value) <= self.TEXT_MAX:
            return value
        if isinstance(value, (int, float)) and -self.LIMIT <= value <= self.LIMIT:
            return value
        raise ValidationError(f"Must be a string (at most {self.TEXT_MAX} characters), a number "
                              f"within +/- {self.LIMIT}, true, false or null.")
