"""``make run`` is safe on any machine: loopback by default, demo credentials never served to
other machines, and webhooks never sent to metadata or private addresses.

Each test runs the real ``make run`` (``python -m devtools.run``) on a database and a Redis
database of its own, and looks at it from this machine and from another host (a network
namespace).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg
import pytest

from app.store import migrations, tenants
from devtools.exposure import DEMO_API_KEY, DEMO_API_KEYS, DEMO_SECRET_KEY
from tests.support.client import ApiClient
from tests.support.databases import claimed_redis_database, fresh_database
from tests.support.factories import customers
from tests.support.make_run import BANNER_END, make_run, make_run_environment
from tests.support.netns import OtherHost, other_host
from tests.support.receiver import receiver
from tests.support.service import free_port, wait_until

OWN_KEYS = "acme:ak_acme_own_key:sk_acme_own_secret"
OWN_TOKEN = "acme-own-operator-token"


@pytest.fixture
def servers_of_its_own(servers) -> Iterator[tuple[str, str]]:
    """A fresh database (migrated by make run's release step) and an unclaimed Redis database."""
    with fresh_database(servers.database_url, migrate=False) as database_url, \
            claimed_redis_database(servers.redis_url) as redis_url:
        yield database_url, redis_url


@pytest.fixture
def another_host() -> Iterator[OtherHost]:
    with other_host() as host:
        yield host


def settings(tmp_path, **extra: str) -> dict[str, str]:
    """Free ports and a private metrics directory, plus ``extra``."""
    return {"PORT": str(free_port()), "FLOWER_PORT": str(free_port()),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "WEB_CONCURRENCY": "1",
            "WORKER_CONCURRENCY": "1", **extra}


def accepts(address: str, port: int) -> bool:
    """Tell whether this machine gets a TCP connection to address:port."""
    try:
        socket.create_connection((address, port), timeout=5).close()
        return True
    except OSError:
        return False


def ports_of(env: dict[str, str]) -> dict[str, int]:
    return {"API": int(env["PORT"]), "Flower": int(env["FLOWER_PORT"])}


def callback_outcome(database_url: str, job_id: str):
    """The job's webhook attempts and last error, once it has been attempted."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT attempts, last_error FROM job_callbacks WHERE job_id = %s",
                           (job_id,)).fetchone()
    return row if row and row[0] > 0 else None


def test_make_run_serves_this_machine_only_and_never_posts_to_link_local(
        servers_of_its_own, another_host, tmp_path):
    database_url, redis_url = servers_of_its_own
    env = make_run_environment(database_url, redis_url, **settings(tmp_path))
    ports = ports_of(env)
    with make_run(env) as run:
        banner = run.wait_for(BANNER_END)
        assert f"API:    http://127.0.0.1:{ports['API']}" in banner
        assert f"Flower: http://127.0.0.1:{ports['Flower']}" in banner
        assert "Both listening on 127.0.0.1: this machine only" in banner
        for name, port in ports.items():
            wait_until(lambda port=port: accepts("127.0.0.1", port), timeout=60,
                       what=f"{name} to listen")
            assert not another_host.connects(another_host.our_address, port), name

        with psycopg.connect(database_url) as conn:
            tenant_id = tenants.find_tenant(conn, "demo")
        api = ApiClient(f"http://127.0.0.1:{ports['API']}", DEMO_API_KEY, DEMO_SECRET_KEY,
                        tenant_id)
        with receiver() as hook:
            hook_port = hook.url.rsplit(":", 1)[1]
            # Loopback, however spelled, is the development allowance; metadata is not.
            sent = {url: api.request("POST", "/batch/customers", params={"callbackUrl": url},
                                     json={"body": customers(1)}).json()["jobId"]
                    for url in ("http://169.254.169.254/latest/meta-data/",
                                f"http://user:pw@2130706433:{hook_port}/hook")}
            wait_until(lambda: hook.received, timeout=60, what="the loopback webhook")
        metadata = wait_until(lambda: callback_outcome(
            database_url, sent["http://169.254.169.254/latest/meta-data/"]), timeout=60,
            what="the metadata webhook's attempt")
    assert hook.received[0].path == "/hook"
    assert metadata == (1, "refused: 169.254.169.254 resolves to a non-public address "
                           "(169.254.169.254) outside WEBHOOK_ALLOW_NETWORKS")


def test_host_opts_in_to_other_machines_with_credentials_of_its_own(
        servers_of_its_own, another_host, tmp_path):
    database_url, redis_url = servers_of_its_own
    env = make_run_environment(database_url, redis_url, **settings(
        tmp_path, HOST="0.0.0.0", BATCH_API_KEYS=OWN_KEYS, OPERATOR_TOKEN=OWN_TOKEN))
    ports = ports_of(env)
    # An earlier make run on loopback left the published pair in this database.
    migrations.upgrade(database_url)
    with psycopg.connect(database_url) as conn:
        tenants.provision(conn, DEMO_API_KEYS)
    with make_run(env) as run:
        banner = run.wait_for(BANNER_END)
        assert "Both listening on 0.0.0.0: every interface, other machines included" in banner
        for name, port in ports.items():
            wait_until(lambda port=port: another_host.connects(another_host.our_address, port),
                       timeout=60, what=f"{name} to be reached from another host")
        api = f"http://127.0.0.1:{ports['API']}"
        assert ApiClient(api, "ak_acme_own_key", "sk_acme_own_secret", 0).request(
            "GET", "/batch").status_code == 200
        assert ApiClient(api, DEMO_API_KEY, DEMO_SECRET_KEY, 0).request(
            "GET", "/batch").status_code == 401
    assert "deleted the demo key pair demo-api-key" in run.output


@pytest.mark.parametrize(("settings_given", "named", "not_named"), [
    ({}, ["BATCH_API_KEYS", "OPERATOR_TOKEN"], []),
    ({"BATCH_API_KEYS": OWN_KEYS, "OPERATOR_TOKEN": "demo-operator-token"},
     ["OPERATOR_TOKEN"], ["BATCH_API_KEYS"]),
    ({"BATCH_API_KEYS": f"{OWN_KEYS},{DEMO_API_KEYS}", "OPERATOR_TOKEN": OWN_TOKEN},
     ["BATCH_API_KEYS"], ["OPERATOR_TOKEN"]),
])
def test_make_run_refuses_to_serve_other_machines_with_demo_credentials(
        servers_of_its_own, tmp_path, settings_given, named, not_named):
    database_url, redis_url = servers_of_its_own
    env = make_run_environment(database_url, redis_url,
                               **settings(tmp_path, HOST="0.0.0.0", **settings_given))
    with make_run(env) as run:
        assert run.exit_status() == 1
    refusal = next(line for line in run.lines if "refusing to serve" in line)
    assert "refusing to serve 0.0.0.0 with the demo credentials the README publishes" in refusal
    for variable in named:
        assert f"{variable} (" in refusal
    for variable in not_named:
        assert variable not in refusal
    assert "leave HOST unset" in refusal
    assert not accepts("127.0.0.1", int(env["PORT"]))
    assert "running the release step" not in run.output  # refused before anything started
