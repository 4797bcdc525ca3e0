"""The ``Retry-After`` header in seconds, shared by the CLI and the chaos run's client.

Standard library only, so that any client (httpx, requests) can use it without pulling in
the CLI's HTTP stack.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Protocol


class Answer(Protocol):
    """An HTTP response of any client library: all this module reads is its headers."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def retry_after_seconds(response: Answer) -> float | None:
    """Return the response's Retry-After in seconds (a number or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
