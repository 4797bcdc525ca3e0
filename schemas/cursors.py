"""Opaque pagination cursors: a list of plain values, as URL-safe base64 of JSON.

A cursor names the last item of a page (a keyset position), never an offset, so pages
stay stable while new jobs arrive. It is opaque to clients but carries no secret: every
query it feeds is tenant-scoped, so a forged cursor can only skip through one's own data.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


class InvalidCursor(ValueError):
    """The cursor was not made by this service."""


def encode(*values: Any) -> str:
    """Return the cursor for ``values``."""
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode(cursor: str, *types: type) -> tuple:
    """Return the values of ``cursor``, which must be of ``types``, in order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor(str(error)) from None
    if (not isinstance(values, list) or len(values) != len(types)
            or not all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types))):
        raise InvalidCursor("unexpected content")
    return tuple(values)
