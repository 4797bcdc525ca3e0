"""The live service (Procfile web + worker) shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.support.client import ApiClient
from tests.support.service import LiveService, service_environment


@pytest.fixture(scope="session")
def live_service(database_url, redis_url, tmp_path_factory):
    """gunicorn and a Celery worker, started from the Procfile, for the whole run."""
    service = LiveService(env=service_environment(database_url, redis_url),
                          log_dir=tmp_path_factory.mktemp("service-logs"))
    service.start("web")
    service.start("worker")
    try:
        service.wait_ready(workers=1)
        yield service
    finally:
        service.stop_all()


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
