"""Operators see the machines that run workers: /readyz, /metrics and the dashboard list each
host with its workers and last heartbeat, on either broker."""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime, timedelta, timezone

import requests

from tests.integration.conftest import OPERATOR_TOKEN
from tests.support.brokers import on_both_brokers
from tests.support.service import wait_until


@on_both_brokers
def test_readyz_checks_the_broker_and_lists_this_host_with_its_worker(live_service, broker):
    def listed():
        body = requests.get(f"{live_service.base_url}/readyz", timeout=10).json()
        # A ping answered over this broker (within its half second), and a heartbeat.
        return body if body["hosts"] and body["workers"] >= 1 else None
    body = wait_until(listed, timeout=30, what="a ping's answer and the first heartbeat")
    assert body["status"] == "ready"
    assert body["checks"] == {"postgres": "ok", "redis": "ok", "broker": "ok"}
    (host,) = [h for h in body["hosts"] if h["host"] == socket.gethostname()]
    assert host["state"] == "alive" and host["workers"] >= 1 and host["processes"] >= 2
    # As PostgreSQL saw the worker connect: an address, or "local" over a unix socket.
    assert host["addresses"] and all(a == "local" or ipaddress.ip_address(a)
                                     for a in host["addresses"])
    beat = datetime.fromisoformat(host["lastHeartbeat"].replace("Z", "+00:00"))
    assert datetime.now(timezone.utc) - beat < timedelta(minutes=1)


@on_both_brokers
def test_the_dashboard_shows_each_host(live_service, broker):
    row = f'data-host="{socket.gethostname()}" data-state="alive"'

    def shown():
        page = requests.get(f"{live_service.base_url}/dashboard/live", timeout=10,
                            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
        assert page.status_code == 200
        return row in page.text
    wait_until(shown, timeout=30, what="the host on the dashboard")
