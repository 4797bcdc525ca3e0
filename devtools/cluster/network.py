"""The cluster's network: hosts made of Linux network namespaces, wired to three switches.

Each host is a network namespace with a veth pair per network it is on; the other end of each
pair is a port of that network's bridge in this machine's namespace, where the operator (the
tests, ``make cluster``) sits too. Three networks, as a deployment keeps them apart:

- ``front``: clients to the web;
- ``db``: to PostgreSQL;
- ``mq``: to the broker and to Redis (live counters).

So a fault can cut one path and leave the others: a host's link to the broker only, the web's
link to PostgreSQL only, or every link of a worker host. A cut sets the bridge's port down,
like a pulled cable: the host's packets go nowhere and nothing answers them, which is what a
lost host looks like to its peers (no refused connection, only silence).

Addresses come from 198.18.0.0/15, the range set aside for testing networks (RFC 2544), never
from a range a real network here could use, and never leave this machine: the hosts have no
route but their own networks. A cluster takes a slot (one /24 of 198.18.X.0, split in three
/26s, one per network), held by a lock file so that two clusters on one machine never share
addresses or names.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

NETWORKS = {"front": 0, "db": 64, "mq": 128}  # each network's offset in the slot's /24
LOCK_DIR = Path("/run/batchq-cluster")
SLOTS = 256
OPERATOR = 1  # the host index of this machine's own namespace on every network


class NetworkError(RuntimeError):
    """Namespaces cannot be made here (not root, or no ``ip``), or the network failed."""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run an ``ip`` command."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def unavailable_reason() -> str | None:
    """Say why namespaces cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"bqprobe{os.getpid()}"
    try:
        ip("netns", "add", probe)
        ip("netns", "delete", probe)
    except (NetworkError, OSError) as error:
        return f"network namespaces cannot be made here: {error}"
    return None


@dataclass
class Host:
    """A host: a network namespace on some of the networks, with a host name of its own."""

    name: str
    index: int
    slot: int
    networks: tuple[str, ...]

    @property
    def netns(self) -> str:
        return f"bq{self.slot}-{self.name}"

    def address(self, network: str) -> str:
        """The host's address on ``network``."""
        return address(self.slot, network, self.index)

    def prefix(self) -> tuple[str, ...]:
        """The command line prefix that runs a program on this host (its namespace and name)."""
        # A UTS namespace of the process's own, named like the host, so that Celery's node
        # name and the heartbeat's host are this host's, as on separate machines.
        return ("ip", "netns", "exec", self.netns, "unshare", "--uts", "--", "sh", "-c",
                'hostname "$0" && exec "$@"', self.name)

    def port(self, network: str) -> str:
        """The bridge port (this machine's end of the host's link) on ``network``."""
        return f"bq{self.slot}h{self.index}{network[0]}"

    def pids(self) -> list[int]:
        """Return the processes running on this host."""
        done = ip("netns", "pids", self.netns, check=False)
        return [int(pid) for pid in done.stdout.split()]

    def kill_everything(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL every process on the host, as a power cut would (or send it ``sig``)."""
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def address(slot: int, network: str, index: int) -> str:
    """Return the address of host ``index`` on ``network`` in ``slot``."""
    return f"198.18.{slot}.{NETWORKS[network] + index}"


def subnet(slot: int, network: str) -> str:
    """Return ``network``'s subnet in ``slot`` (CIDR)."""
    return f"198.18.{slot}.{NETWORKS[network]}/26"


@dataclass
class Network:
    """The three switches of one cluster, and the hosts plugged into them."""

    slot: int
    hosts: dict[str, Host] = field(default_factory=dict)
    _lock: object = None
    _made: int = 0  # hosts made so far: a host's index (its addresses) is never reused

    @classmethod
    def create(cls) -> Network:
        """Take a free slot, clear what a killed run left in it, and bring up its bridges."""
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        for slot in range(SLOTS):
            lock = (LOCK_DIR / f"slot-{slot}.lock").open("w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            network = cls(slot, _lock=lock)
            network._clear_leftovers()
            for name in NETWORKS:
                bridge = network.bridge(name)
                ip("link", "add", bridge, "type", "bridge")
                ip("addr", "add", f"{address(slot, name, OPERATOR)}/26", "dev", bridge)
                ip("link", "set", bridge, "up")
            return network
        raise NetworkError("every cluster slot is taken")

    def bridge(self, network: str) -> str:
        return f"bq{self.slot}{network}"

    def add_host(self, name: str, networks: tuple[str, ...]) -> Host:
        """Make a host on ``networks``: its namespace, loopback and one link per network."""
        self._made += 1
        host = Host(name, OPERATOR + self._made, self.slot, networks)
        ip("netns", "add", host.netns)
        ip("-n", host.netns, "link", "set", "lo", "up")
        for network in networks:
            port, inside = host.port(network), f"{host.port(network)}x"
            ip("link", "add", port, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", host.netns)
            ip("-n", host.netns, "link", "set", inside, "name", network)
            ip("-n", host.netns, "addr", "add", f"{host.address(network)}/26", "dev", network)
            ip("-n", host.netns, "link", "set", network, "up")
            ip("link", "set", port, "master", self.bridge(network))
            ip("link", "set", port, "up")
        self.hosts[name] = host
        return host

    def cut(self, host: Host, *networks: str) -> None:
        """Pull the cables of ``host`` on ``networks`` (all of them if none named)."""
        for network in networks or host.networks:
            ip("link", "set", host.port(network), "down")

    def mend(self, host: Host, *networks: str) -> None:
        """Plug the cables back in."""
        for network in networks or host.networks:
            ip("link", "set", host.port(network), "up")

    def remove_host(self, host: Host) -> None:
        """Kill what runs on the host and delete it, links included."""
        host.kill_everything()
        ip("netns", "delete", host.netns, check=False)  # its veth pairs go with it
        self.hosts.pop(host.name, None)

    def destroy(self) -> None:
        """Remove every host and bridge, and give the slot back."""
        for host in list(self.hosts.values()):
            self.remove_host(host)
        for name in NETWORKS:
            ip("link", "delete", self.bridge(name), check=False)
        if self._lock is not None:
            self._lock.close()

    def _clear_leftovers(self) -> None:
        """Remove the namespaces and bridges a killed run of this slot left behind."""
        prefix = f"bq{self.slot}-"
        for line in ip("netns", "list").stdout.splitlines():
            name = line.split()[0] if line.strip() else ""
            if name.startswith(prefix):
                leftover = Host(name[len(prefix):], 0, self.slot, ())
                leftover.kill_everything()
                ip("netns", "delete", name, check=False)
        for name in NETWORKS:
            ip("link", "delete", self.bridge(name), check=False)
