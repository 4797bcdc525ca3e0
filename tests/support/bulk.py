"""Bulk uploads in tests: records as NDJSON, and the requests that send them."""

from __future__ import annotations

from typing import Any

import orjson

PREFIX = "/api/v4.0/integrations"


def ndjson(records: list[Any]) -> bytes:
    """Return ``records`` as NDJSON, one per line."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def upload(client, headers: dict[str, str], body: bytes, content_type: str = "application/x-ndjson",
           operation: str = "customers"):
    """POST ``body`` as a streamed upload with a Flask test client (or anything alike)."""
    return client.post(f"{PREFIX}/batch/{operation}", data=body, content_type=content_type,
                       headers=headers)
