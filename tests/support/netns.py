"""Another host on this machine: a network namespace joined to ours by a veth pair.

What "reachable from another machine" means, tested for real: the namespace has its own
interfaces and loopback, and reaches ours only through the veth's address on our side, as a
machine on the same network would. Needs root and iproute2; the addresses are a random /30 of
198.18.0.0/15 (reserved for network tests), so concurrent runs do not collide.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

TEST_NETWORKS = ipaddress.ip_network("198.18.0.0/15")


@dataclass(frozen=True)
class OtherHost:
    """The namespace's name, and the address our machine has on the link between them."""

    namespace: str
    our_address: str

    def connects(self, address: str, port: int) -> bool:
        """Tell whether a TCP connection from the other host to address:port is accepted."""
        probe = ("import socket, sys\n"
                 "try:\n"
                 f"    socket.create_connection(({address!r}, {port}), timeout=5).close()\n"
                 "except OSError:\n"
                 "    sys.exit(1)\n")
        done = subprocess.run(["ip", "netns", "exec", self.namespace, sys.executable, "-c", probe],
                              capture_output=True, timeout=30)
        return done.returncode == 0


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextmanager
def other_host() -> Iterator[OtherHost]:
    """Create the namespace and its link to ours; remove both at the end."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("another host needs a network namespace: root and iproute2")
    name = f"bq{secrets.token_hex(4)}"
    count = TEST_NETWORKS.num_addresses // 4
    subnet = ipaddress.ip_network((int(TEST_NETWORKS[0]) + 4 * secrets.randbelow(count), 30))
    ours, theirs = (str(address) for address in subnet.hosts())
    with ExitStack() as cleanup:
        _ip("netns", "add", name)
        cleanup.callback(_ip, "netns", "delete", name)
        _ip("link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b",
            "netns", name)
        cleanup.callback(_ip, "link", "delete", f"{name}a")  # takes its peer with it
        _ip("addr", "add", f"{ours}/30", "dev", f"{name}a")
        _ip("link", "set", f"{name}a", "up")
        _ip("-n", name, "addr", "add", f"{theirs}/30", "dev", f"{name}b")
        _ip("-n", name, "link", "set", f"{name}b", "up")
        _ip("-n", name, "link", "set", "lo", "up")
        yield OtherHost(name, ours)
