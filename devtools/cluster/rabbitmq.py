"""A RabbitMQ node of the cluster's own, run on its data host.

The machine's RabbitMQ serves the machine; the cluster's broker must live on the data host,
reachable only over the cluster's network, so that cutting a link cuts it off. A node of its
own (its node name, data, logs, cookie and configuration under the run directory) inside the
data host's namespace needs no port of the machine: the namespace has its own, and its own
epmd on its own loopback.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kombu import Connection

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
USER = PASSWORD = "batchq"
START_TIMEOUT = 90


class RabbitMQError(RuntimeError):
    """The node did not start."""


def unavailable_reason() -> str | None:
    """Say why a node cannot be started here, or None if it can."""
    return None if SERVER.exists() else f"RabbitMQ is not installed ({SERVER} is missing)"


@contextmanager
def rabbitmq_node(run_dir: Path, host: str, prefix: tuple[str, ...]) -> Iterator[str]:
    """Run a RabbitMQ node listening on ``host`` through ``prefix``; yield its AMQP URL."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "rabbitmq.conf").write_text(
        f"listeners.tcp.1 = {host}:5672\n"
        # The cluster's clients are on other hosts: the default user is not loopback-only.
        "loopback_users = none\n"
        f"default_user = {USER}\ndefault_pass = {PASSWORD}\n")
    (run_dir / "enabled_plugins").write_text("[].\n")
    (run_dir / "rabbitmq-env.conf").write_text("")
    env = {
        "PATH": "/usr/lib/rabbitmq/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(run_dir),  # its Erlang cookie
        "RABBITMQ_NODENAME": "batchq@localhost",
        "RABBITMQ_CONFIG_FILE": str(run_dir / "rabbitmq.conf"),
        "RABBITMQ_CONF_ENV_FILE": str(run_dir / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(run_dir / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(run_dir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(run_dir / "log"),
        "RABBITMQ_PID_FILE": str(run_dir / "rabbitmq.pid"),
        # Its own epmd and distribution port, on the namespace's own loopback.
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_DIST_PORT": "25672",
    }
    url = f"amqp://{USER}:{PASSWORD}@{host}:5672//"
    with (run_dir / "server.log").open("ab") as log:
        server = subprocess.Popen([*prefix, str(SERVER)], env=env, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_serving(url, server, run_dir)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(url: str, server: subprocess.Popen, run_dir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with Connection(url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
                return
        except Exception as error:  # noqa: BLE001 - not up yet, whatever the reason
            if server.poll() is not None or time.monotonic() > deadline:
                log = (run_dir / "server.log").read_text(errors="replace")[-3000:]
                raise RabbitMQError(f"RabbitMQ did not start ({error}):\n{log}") from None
        time.sleep(0.5)
