"""The live service (Procfile web + worker) shared by the integration tests."""

from __future__ import annotations

import pytest
from celery import Celery

from tests.support.client import ApiClient
from tests.support.service import running_service, service_environment

OPERATOR_TOKEN = "operator-token-for-tests"
# The queues of jobs and chunks (CELERY_QUEUE, BULK_QUEUE): what paused workers stop taking.
JOB_QUEUES = ("batch", "bulk")


@pytest.fixture(scope="session")
def live_service(database_url, redis_url, tmp_path_factory):
    """gunicorn and a Celery worker, started from the Procfile, for the whole run."""
    # Web and worker share one metrics directory, as the processes of one machine do.
    env = service_environment(database_url, redis_url, OPERATOR_TOKEN=OPERATOR_TOKEN,
                              PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("metrics")))
    with running_service(env, tmp_path_factory.mktemp("service-logs")) as service:
        yield service


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
def paused_workers(live_service, redis_url):
    """Workers that consume nothing until the test resumes them (jobs stay queued)."""
    control = Celery(broker=redis_url)
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
