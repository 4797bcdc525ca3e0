"""Worker hosts from their heartbeats: beating shows a host alive, silence shows it lost within
WORKER_LOST_AFTER_SECONDS, a clean stop forgets it, and /metrics says so per host."""

from __future__ import annotations

import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.domain import cluster
from app.observability import metrics
from app.runtime.heartbeat import Heartbeat
from app.store import heartbeats
from tests.support.databases import fresh_database
from tests.support.service import wait_until
from workers import retention


@pytest.fixture
def database_url(servers):
    """A database of each test's own: hosts are every worker's, across the database."""
    with fresh_database(servers.database_url) as url:
        yield url


@pytest.fixture
def services(make_services):
    return make_services(WORKER_HEARTBEAT_SECONDS="1", WORKER_LOST_AFTER_SECONDS="5")


def hosts(services) -> dict[str, heartbeats.Host]:
    with services.db.transaction() as conn:
        return {host.host: host for host in cluster.worker_hosts(conn, services)}


def silence(services, host: str, seconds: int) -> None:
    """Make every heartbeat of ``host`` ``seconds`` older."""
    with services.db.transaction() as conn:
        conn.execute("UPDATE worker_heartbeats SET beat_at = beat_at - make_interval(secs => %s)"
                     " WHERE host = %s", (seconds, host))


def beat(services, host: str, pid: int = 1, concurrency: int = 2) -> None:
    with services.db.transaction() as conn:
        heartbeats.beat(conn, host, pid, f"celery@{host}-{pid}", concurrency)


def test_a_worker_beats_from_its_host_until_it_stops(services):
    heartbeat = Heartbeat(services.db, "celery@test-node", 3, interval=0.2)
    heartbeat.start()
    try:
        found = wait_until(lambda: hosts(services).get(socket.gethostname()), timeout=10,
                           what="the first heartbeat")
        first = found.last_heartbeat
        assert (found.workers, found.processes, found.lost) == (1, 3, False)
        assert found.addresses  # as PostgreSQL saw the connection
        wait_until(lambda: hosts(services)[socket.gethostname()].last_heartbeat > first,
                   timeout=10, what="a second heartbeat")
    finally:
        heartbeat.stop()
    assert socket.gethostname() not in hosts(services)  # a clean stop forgets it


def test_a_silent_host_shows_as_lost_and_keeps_its_last_heartbeat(services):
    beat(services, "host-a")
    beat(services, "host-b", pid=1)
    beat(services, "host-b", pid=2, concurrency=4)
    silence(services, "host-a", 6)
    found = hosts(services)
    assert (found["host-b"].workers, found["host-b"].processes, found["host-b"].lost) == \
        (2, 6, False)
    assert (found["host-a"].workers, found["host-a"].processes, found["host-a"].lost) == \
        (0, 0, True)

    silence(services, "host-a", 86400)
    assert "host-a" not in hosts(services)  # forgotten after a day
    assert retention.purge_forgotten_hosts(services) == 1


def test_metrics_show_each_host_and_the_lost_ones(services):
    beat(services, "host-alive")
    beat(services, "host-gone")
    silence(services, "host-gone", 60)
    text = metrics.render(cluster.ServiceCollector(services)).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("batchq_worker_hosts", (("state", "alive"),))] == 1
    assert samples[("batchq_worker_hosts", (("state", "lost"),))] == 1
    assert samples[("batchq_host_workers", (("host", "host-alive"),))] == 1
    assert samples[("batchq_host_workers", (("host", "host-gone"),))] == 0
    gone = samples[("batchq_host_last_heartbeat_timestamp_seconds", (("host", "host-gone"),))]
    alive = samples[("batchq_host_last_heartbeat_timestamp_seconds", (("host", "host-alive"),))]
    assert 55 < alive - gone < 65
