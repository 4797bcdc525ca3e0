"""The live services (Procfile web + worker) shared by the integration tests: one on Redis as
the broker, and one on RabbitMQ for the tests that run on both (``on_both_brokers``)."""

from __future__ import annotations

import pytest
from celery import Celery

from tests.support.client import ApiClient
from tests.support.service import running_service, service_environment

OPERATOR_TOKEN = "operator-token-for-tests"
# The queues of jobs and chunks (CELERY_QUEUE, BULK_QUEUE): what paused workers stop taking.
JOB_QUEUES = ("batch", "bulk")


def _service(tmp_path_factory, database_url: str, redis_url: str, **settings: str):
    """Start gunicorn and a Celery worker from the Procfile with ``settings``."""
    # Web and worker share one metrics directory, as the processes of one machine do.
    env = service_environment(database_url, redis_url, OPERATOR_TOKEN=OPERATOR_TOKEN,
                              PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("metrics")),
                              **settings)
    return running_service(env, tmp_path_factory.mktemp("service-logs"))


@pytest.fixture(scope="session")
def redis_service(database_url, redis_url, tmp_path_factory):
    """gunicorn and a Celery worker on Redis (broker and counters), for the whole run."""
    with _service(tmp_path_factory, database_url, redis_url) as service:
        yield service


@pytest.fixture(scope="session")
def rabbitmq_service(database_url, redis_url, rabbitmq_url, tmp_path_factory):
    """gunicorn and a Celery worker on RabbitMQ (Redis keeps the counters), for the whole run."""
    with _service(tmp_path_factory, database_url, redis_url, BROKER_URL=rabbitmq_url) as service:
        yield service


@pytest.fixture
def broker(request) -> str:
    """The broker the test runs on: Redis, unless it is parametrised ``on_both_brokers``."""
    return getattr(request, "param", "redis")


@pytest.fixture
def live_service(broker, request):
    """The running service on the test's broker."""
    return request.getfixturevalue(f"{broker}_service")


@pytest.fixture
def api(live_service, make_tenant) -> ApiClient:
    """A client acting for a fresh tenant."""
    tenant_id, pair = make_tenant()
    return ApiClient(live_service.base_url, pair.api_key, pair.secret_key, tenant_id)


@pytest.fixture
def other_api(live_service, make_tenant) -> ApiClient:
    """A client acting for another fresh tenant."""
    tenant_id, pair = make_tenant()
    return ApiClient(live_service.base_url, pair.api_key, pair.secret_key, tenant_id)


@pytest.fixture
def paused_workers(live_service):
    """Workers that consume nothing until the test resumes them (jobs stay queued)."""
    control = Celery(broker=live_service.env.get("BROKER_URL") or live_service.env["REDIS_URL"])
    # Waiting for as many replies as there are workers returns as soon as all answered.
    workers = len(live_service.processes["worker"])
    for queue in JOB_QUEUES:
        replies = control.control.cancel_consumer(queue, reply=True, timeout=5, limit=workers)
        assert len(replies) == workers, "not every worker answered"
    resumed = []

    def resume():
        for queue in JOB_QUEUES:
            control.control.add_consumer(queue, reply=True, timeout=5, limit=workers)
        resumed.append(True)

    yield resume
    if not resumed:
        resume()
    control.close()
