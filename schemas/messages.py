"""Turn marshmallow's nested error messages into the one line a failed record carries."""

from __future__ import annotations

from typing import Any


def flatten_errors(messages: Any, prefix: str = "") -> list[str]:
    """Return ``["field: reason", ...]`` for marshmallow's nested ``messages``."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            if key == "_schema":  # about the object itself: the record, or a nested object
                path = prefix or "record"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(flatten_errors(value, path))
        return lines
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            return [f"{prefix}: {m}" if prefix else m for m in messages]
        return [line for m in messages for line in flatten_errors(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def error_line(messages: Any) -> str:
    """Return all of ``messages`` as one line, ``"field: reason; field: reason"``."""
    return "; ".join(flatten_errors(messages))
