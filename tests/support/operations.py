"""A test operation: an entry in the catalogue and its apply step, for one test only."""

from __future__ import annotations

import pytest
from marshmallow import Schema

from app.catalogue import OPERATIONS, Operation
from workers.operations import APPLY, ApplyChunk


def add_operation(monkeypatch: pytest.MonkeyPatch, name: str, schema: Schema, apply: ApplyChunk,
                  *, unique_field: str | None = None, **options: str) -> None:
    """Make operation ``name`` exist until the test ends, validated by ``schema``
    (``options``: the other fields of its catalogue entry, e.g. ``record_type``)."""
    monkeypatch.setitem(OPERATIONS, name, Operation(name=name, title=name.title(), schema=schema,
                                                    unique_field=unique_field, **options))
    monkeypatch.setitem(APPLY, name, apply)
