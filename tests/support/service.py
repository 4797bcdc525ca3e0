"""The Procfile's processes in tests: ``devtools.service`` (shared with ``make chaos``), and
the environment the tests run them with."""

from __future__ import annotations

from devtools.run import LOOPBACK_NETWORKS
from devtools.service import (
    ROOT,
    LiveService,
    free_port,
    process_environment,
    procfile_lines,
    running_service,
    wait_until,
)

__all__ = ["ROOT", "LiveService", "free_port", "procfile_lines", "running_service",
           "service_environment", "wait_until"]


def service_environment(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """Return the environment the service's processes run with in tests."""
    env = process_environment(database_url, redis_url)
    env.update({
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "CHUNK_SIZE": "100",
        # Webhook retries a second apart at most, so a retry is seen within a test.
        "WEBHOOK_RETRY_BACKOFF_MAX": "1",
        # The tests' webhook receivers listen on loopback, as `make run`'s users' do.
        "WEBHOOK_ALLOW_NETWORKS": LOOPBACK_NETWORKS,
        # Tests send bursts from one key; only the rate-limit tests lower these.
        "RATE_LIMIT_WRITES": "100000/second",
        "RATE_LIMIT_READS": "100000/second",
    })
    env.update(overrides)
    return env
