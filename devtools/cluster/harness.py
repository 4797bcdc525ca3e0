"""A whole deployment on one machine: a data host, a web host and worker hosts, each its own
network namespace, every process of a host inside it, reaching the others only by address.

- ``data``: PostgreSQL on the db network, Redis (and RabbitMQ) on the mq network;
- ``web``: the Procfile's ``release`` (migrations), ``web`` and ``beat``; clients reach it on
  the front network;
- ``worker-1`` .. ``worker-N``: one Procfile ``worker`` each.

The servers are the embedded ones of ``devtools.servers`` (and a RabbitMQ node of the
cluster's own), started inside the data host; the service's processes are the Procfile's
lines, as in production, with the cluster's addresses in their environment.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from devtools.cluster import rabbitmq
from devtools.cluster.network import Host, Network, subnet
from devtools.servers import embedded_postgres, embedded_redis
from devtools.service import LiveService, process_environment, wait_until

API_KEY, SECRET_KEY = "cluster-api-key", "cluster-secret-key"
WEB_PORT = 8000
BROKERS = ("redis", "rabbitmq")


@dataclass
class Cluster:
    """The running cluster: its network, hosts and the service on each."""

    network: Network
    broker: str
    env: dict[str, str]
    run_dir: Path
    log_dir: Path
    database_url: str
    redis_url: str
    broker_url: str
    services: dict[str, LiveService] = field(default_factory=dict)
    workers_made: int = 0  # worker hosts ever started: a name is never reused

    @property
    def web(self) -> LiveService:
        return self.services["web"]

    @property
    def api_url(self) -> str:
        return self.web.base_url

    def host(self, name: str) -> Host:
        return self.network.hosts[name]

    def worker_hosts(self) -> list[str]:
        """The names of the worker hosts, in the order they joined."""
        return [name for name in self.services if name.startswith("worker-")]

    def start_host(self, name: str, networks: tuple[str, ...],
                   process_types: tuple[str, ...], **settings: str) -> LiveService:
        """Make host ``name`` and start ``process_types`` on it from the Procfile."""
        host = self.network.add_host(name, networks)
        self.workers_made += name.startswith("worker-")
        metrics = self.run_dir / "metrics" / name
        metrics.mkdir(parents=True, exist_ok=True)
        (self.log_dir / name).mkdir(parents=True, exist_ok=True)
        service = LiveService(env={**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                                   **settings},
                              log_dir=self.log_dir / name, port=WEB_PORT,
                              address=host.address("front") if "front" in networks else "",
                              prefix=host.prefix())
        self.services[name] = service
        for process_type in process_types:
            service.start(process_type)
        return service

    def add_worker_host(self) -> str:
        """A new worker host joins: return its name once its worker beats."""
        name = f"worker-{self.workers_made + 1}"
        self.start_host(name, ("db", "mq"), ("worker",))
        self.wait_for_hosts(alive={name})
        return name

    def kill_host(self, name: str) -> None:
        """Kill every process of host ``name`` at once (a machine gone); the host is gone."""
        host = self.network.hosts[name]
        host.kill_everything()
        service = self.services.pop(name)
        for group in service.processes.values():
            for process in group:
                process.wait(30)
                process.log_file.close()  # type: ignore[attr-defined]
        self.network.remove_host(host)

    def readyz(self) -> dict:
        """The web's /readyz body (whatever its status)."""
        return requests.get(f"{self.api_url}/readyz", timeout=30).json()

    def wait_for_hosts(self, *, alive: set[str] = frozenset(), lost: set[str] = frozenset(),
                       timeout: float = 120) -> dict:
        """Wait until /readyz shows the hosts ``alive`` alive and ``lost`` lost."""
        def shown():
            try:
                states = {h["host"]: h["state"] for h in self.readyz()["hosts"]}
            except (requests.RequestException, ValueError, KeyError):
                return None
            ok = all(states.get(h) == "alive" for h in alive) and \
                all(states.get(h) == "lost" for h in lost)
            return states if ok else None
        return wait_until(shown, timeout=timeout, interval=0.5,
                          what=f"hosts alive {sorted(alive)} and lost {sorted(lost)}")

    def stop(self) -> None:
        """Stop every process of every host (the servers stop with their contexts)."""
        for service in self.services.values():
            service.stop_all()


@contextmanager
def running_cluster(run_dir: Path, *, broker: str = "redis", workers: int = 3,
                    settings: dict[str, str] | None = None,
                    log_dir: Path | None = None) -> Iterator[Cluster]:
    """Make the network and hosts, start the servers and the service; tear all down after.

    The processes' logs go to ``log_dir`` (by default under ``run_dir``), one folder per host.
    """
    if broker not in BROKERS:
        raise ValueError(f"broker must be one of {BROKERS}, not {broker!r}")
    network = Network.create()
    with ExitStack() as stack:
        stack.callback(network.destroy)
        # The slot is this run's alone: so is its folder, emptied of what a last run left.
        run_dir = run_dir.resolve() / f"slot-{network.slot}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        data = network.add_host("data", ("db", "mq"))
        inside = ("ip", "netns", "exec", data.netns)
        postgres = stack.enter_context(embedded_postgres(
            run_dir / "postgres", host=data.address("db"), port=5432, netns=data.netns,
            trusted=subnet(network.slot, "db")))
        with psycopg.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE batchq")
        database_url = postgres.url.rsplit("/", 1)[0] + "/batchq"
        redis_url = stack.enter_context(embedded_redis(
            run_dir / "redis", host=data.address("mq"), port=6379, prefix=inside))
        broker_url = redis_url
        if broker == "rabbitmq":
            broker_url = stack.enter_context(rabbitmq.rabbitmq_node(
                run_dir / "rabbitmq", data.address("mq"), inside))
        env = process_environment(database_url, redis_url, BROKER_URL=broker_url,
                                  BATCH_API_KEYS=f"cluster:{API_KEY}:{SECRET_KEY}",
                                  **(settings or {}))
        cluster = Cluster(network, broker, env, run_dir, log_dir or run_dir / "logs",
                          database_url, redis_url, broker_url)
        stack.callback(cluster.stop)
        web = cluster.start_host("web", ("front", "db", "mq"), ())
        release = web.start("release")
        if release.wait(120) != 0:
            raise subprocess.SubprocessError(f"release failed: see {web.log_dir}")
        web.stop(release)
        web.start("web")
        web.start("beat")
        for number in range(1, workers + 1):
            cluster.start_host(f"worker-{number}", ("db", "mq"), ("worker",))
        cluster.wait_for_hosts(alive=set(cluster.worker_hosts()))
        web.wait_ready(workers=workers, timeout=120)
        yield cluster
