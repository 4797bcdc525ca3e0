"""RabbitMQ for the tests, beside Redis: a virtual host of the run's own on the machine's server.

The broker-touching integration tests run on both brokers (``on_both_brokers``). A run claims
a fresh virtual host on the RabbitMQ at ``RABBITMQ_URL`` (by default the local server,
``amqp://guest:guest@127.0.0.1:5672``), made and deleted with ``rabbitmqctl``, so that
concurrent runs never share a queue, as a Redis database number keeps them apart on Redis.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

BROKERS = ("redis", "rabbitmq")
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672"

# A test that involves the broker runs once per broker: `broker` names it, `live_service` and
# the clients built on it use that broker's service.
on_both_brokers = pytest.mark.parametrize("broker", BROKERS, indirect=True)


def rabbitmq_server_url() -> str:
    """Return the RabbitMQ server the tests use (no virtual host)."""
    return os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL).rstrip("/")


def unavailable_reason(server_url: str) -> str | None:
    """Say why the tests cannot have a virtual host on ``server_url``, or None if they can."""
    parts = urlsplit(server_url)
    try:
        socket.create_connection((parts.hostname, parts.port or 5672), timeout=2).close()
    except OSError as error:
        return f"RabbitMQ does not answer at {parts.hostname}:{parts.port or 5672}: {error}"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed: it makes each run's virtual host"
    return None


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def claimed_vhost(server_url: str) -> Iterator[str]:
    """Create a virtual host for this run, usable by the URL's user; delete it at the end."""
    vhost = f"batchq_test_{secrets.token_hex(4)}"
    user = urlsplit(server_url).username or "guest"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        yield f"{server_url}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)
