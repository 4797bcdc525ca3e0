"""Configuration: one environment-driven source for the web process and the workers.

Every variable is listed in the README with its default. The two that name servers
(``DATABASE_URL``, ``REDIS_URL``) have no default: a process started without them stops
with a message instead of silently talking to some other server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from kombu import Queue

from app.points_rules import PointsRule, parse_rate
from app.queue import DELIVER_CALLBACK, PURGE_RESULTS, SWEEP_JOBS


class ConfigError(RuntimeError):
    """A setting is missing or cannot be parsed."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _rate(env: Mapping[str, str], name: str, default: str, *, positive: bool) -> Decimal:
    try:
        return parse_rate(env.get(name, "").strip() or default, positive=positive)
    except ValueError as error:
        raise ConfigError(f"{name} {error}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _rates(env: Mapping[str, str], name: str, default: str) -> str:
    from app.ratelimit import parse_rates

    value = env.get(name, "").strip() or default
    try:
        parse_rates(value)
    except ValueError:
        raise ConfigError(f"{name} must be rates like '30/second;360 per 30 seconds', "
                          f"got {value!r}") from None
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{name} is not set. Set it in the environment (see the README's settings table), "
            "or use `make run`, which starts embedded servers when none is configured."
        )
    return value


class Config:
    """Settings read from the environment once, at construction."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.DATABASE_URL = _required(env, "DATABASE_URL")
        self.REDIS_URL = _required(env, "REDIS_URL")
        # "tenant:apikey:secretkey,..." provisioned at start, for development and tests.
        self.BATCH_API_KEYS = env.get("BATCH_API_KEYS", "")

        self.MAX_RECORDS_PER_REQUEST = _int(env, "MAX_RECORDS_PER_REQUEST", 1000, minimum=1)
        # Flask answers 413 for a larger body before reading it.
        self.MAX_CONTENT_LENGTH = _int(env, "MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
        # One chunk per full request: a chunk costs a task and a transaction, and 4x250 cost
        # the workers 70% more CPU than 1x1,000 (make bench). Smaller chunks spread one big
        # job over more workers sooner.
        self.CHUNK_SIZE = _int(env, "CHUNK_SIZE", 1000, minimum=1)

        self.DB_POOL_MIN_SIZE = _int(env, "DB_POOL_MIN_SIZE", 1, minimum=0)
        self.DB_POOL_MAX_SIZE = _int(env, "DB_POOL_MAX_SIZE", 10, minimum=1)
        self.DB_STATEMENT_TIMEOUT_MS = _int(env, "DB_STATEMENT_TIMEOUT_MS", 30_000)
        self.DB_LOCK_TIMEOUT_MS = _int(env, "DB_LOCK_TIMEOUT_MS", 15_000)
        # Longest wait for a connection (and to open one): with PostgreSQL away, a POST
        # answers 503 after this long rather than hanging on the pool.
        self.DB_POOL_TIMEOUT_SECONDS = _int(env, "DB_POOL_TIMEOUT_SECONDS", 5, minimum=1)

        # Live counters of a job are kept this long after its last update.
        self.PROGRESS_TTL_SECONDS = _int(env, "PROGRESS_TTL_SECONDS", 7 * 24 * 3600, minimum=60)
        # Redis redelivers a message not acknowledged within this time (a worker lost
        # with it); must exceed the longest chunk, which is seconds.
        self.BROKER_VISIBILITY_TIMEOUT = _int(env, "BROKER_VISIBILITY_TIMEOUT", 3600, minimum=10)
        # Retries of a chunk whose database went away, with exponential backoff and jitter.
        self.CHUNK_MAX_RETRIES = _int(env, "CHUNK_MAX_RETRIES", 12)
        self.CHUNK_RETRY_BACKOFF_MAX = _int(env, "CHUNK_RETRY_BACKOFF_MAX", 60, minimum=1)
        # Deliveries of a chunk (or a job's start) that end in a bug or a lost worker; after
        # the last one its records fail with the reason instead of looping for ever.
        self.CHUNK_MAX_ATTEMPTS = _int(env, "CHUNK_MAX_ATTEMPTS", 5, minimum=1)
        # The sweeper re-enqueues an unfinished job that made no progress for this long;
        # with the interval below, a stalled job is picked up again within 45 s.
        self.STALLED_AFTER_SECONDS = _int(env, "STALLED_AFTER_SECONDS", 30, minimum=1)
        self.SWEEP_INTERVAL_SECONDS = _int(env, "SWEEP_INTERVAL_SECONDS", 15, minimum=1)
        # Per-record results of a job are kept this long after it ended, then purged (its
        # summary stays); beat sends the purge every PURGE_INTERVAL_SECONDS.
        self.RESULT_RETENTION_DAYS = _int(env, "RESULT_RETENTION_DAYS", 30, minimum=1)
        self.PURGE_INTERVAL_SECONDS = _int(env, "PURGE_INTERVAL_SECONDS", 3600, minimum=1)
        # Guards the operators' dashboard, which sees and stops every tenant's jobs; unset,
        # the dashboard is off.
        self.OPERATOR_TOKEN = env.get("OPERATOR_TOKEN", "").strip()
        if self.OPERATOR_TOKEN and len(self.OPERATOR_TOKEN) < 16:
            raise ConfigError("OPERATOR_TOKEN must be at least 16 characters (a random string)")
        # A worker started with this set serves its machine's metrics at :PORT/metrics (for
        # machines with no web process beside the workers); 0 serves none.
        self.WORKER_METRICS_PORT = _int(env, "WORKER_METRICS_PORT", 0)
        # Added to the CPU niceness of each worker pool process. Where the web shares cores
        # with the workers, the requests then come first and a batch takes what is left;
        # on a machine of workers alone nothing competes, so it changes nothing. 0 is off.
        self.WORKER_NICENESS = _int(env, "WORKER_NICENESS", 10, maximum=19)
        self.CELERY_QUEUE = env.get("CELERY_QUEUE", "batch").strip() or "batch"

        # Points per currency unit, for tenants without a rule of their own
        # (`flask --app app tenants points-rule`): earned by orders and cashback, and
        # spent by a redemption given as an amount.
        self.DEFAULT_EARNING_RATE = _rate(env, "DEFAULT_EARNING_RATE", "1", positive=False)
        self.DEFAULT_REDEMPTION_RATE = _rate(env, "DEFAULT_REDEMPTION_RATE", "1", positive=True)

        # Per API key; Gameball's published defaults for writes and reads.
        self.RATE_LIMIT_WRITES = _rates(env, "RATE_LIMIT_WRITES", "30/second;360 per 30 seconds")
        self.RATE_LIMIT_READS = _rates(env, "RATE_LIMIT_READS", "100/second")

        # An Idempotency-Key names its job at least this long (24 h is the promise); the
        # retention purge deletes it afterwards.
        self.IDEMPOTENCY_KEY_TTL_HOURS = _int(env, "IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=24)
        # Completion webhooks: sent from their own queue so a slow endpoint never delays a
        # chunk; each attempt waits at most WEBHOOK_TIMEOUT_SECONDS, retried with exponential
        # backoff (equal jitter) up to WEBHOOK_RETRY_BACKOFF_MAX seconds apart, which stays
        # below BROKER_VISIBILITY_TIMEOUT so a delayed retry is not redelivered early.
        self.WEBHOOK_QUEUE = env.get("WEBHOOK_QUEUE", "callbacks").strip() or "callbacks"
        self.WEBHOOK_TIMEOUT_SECONDS = _int(env, "WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
        self.WEBHOOK_MAX_ATTEMPTS = _int(env, "WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
        self.WEBHOOK_RETRY_BACKOFF_MAX = _int(env, "WEBHOOK_RETRY_BACKOFF_MAX", 600, minimum=1)
        # Off: callbacks go to public addresses only (the SSRF guard, app.webhook_targets).
        # On for development and tests, whose receivers listen on localhost.
        self.WEBHOOK_ALLOW_PRIVATE_NETWORKS = _flag(env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS")

    def default_points_rule(self) -> PointsRule:
        """Return the points rule of a tenant that has none of its own."""
        return PointsRule(self.DEFAULT_EARNING_RATE, self.DEFAULT_REDEMPTION_RATE)

    def beat_schedule(self) -> dict:
        """Return the periodic tasks Celery beat sends: one line per task."""
        return {
            "sweep-jobs": _every(SWEEP_JOBS, self.SWEEP_INTERVAL_SECONDS),
            "purge-results": _every(PURGE_RESULTS, self.PURGE_INTERVAL_SECONDS),
        }

    def celery_settings(self) -> dict:
        """Return Celery's settings, derived from this configuration."""
        # One visibility timeout for the broker and (should one be configured) the results:
        # Celery's Redis docs warn that differing values redeliver at the shorter one.
        transport = {"visibility_timeout": self.BROKER_VISIBILITY_TIMEOUT}
        return {
            "broker_url": self.REDIS_URL,
            "broker_transport_options": transport,
            "result_backend_transport_options": transport,
            "broker_connection_retry_on_startup": True,
            # Results live in PostgreSQL; Celery's result backend would be a second copy.
            "task_ignore_result": True,
            # The (disabled) result backend is then built once per process, not once per
            # thread: building it scans every installed package's entry points, ~60 ms
            # inside whichever POST came first on each of gunicorn's threads.
            "result_backend_thread_safe": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_default_queue": self.CELERY_QUEUE,
            # A worker started without -Q consumes every queue listed here; webhooks have
            # their own, so `celery worker -Q callbacks` can serve them apart.
            "task_queues": [Queue(name) for name in dict.fromkeys((self.CELERY_QUEUE,
                                                                   self.WEBHOOK_QUEUE))],
            "task_routes": {DELIVER_CALLBACK: {"queue": self.WEBHOOK_QUEUE}},
            # A message is acknowledged only once its chunk is committed, and given back
            # when the process running it dies: chunks are idempotent, loss is not.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            # No task events unless someone watches: Flower turns them on in every worker
            # while it runs (its enable_events, every 5 s), `celery worker -E` forces them.
            # Otherwise each task would cost three Redis publishes nobody reads. Never a
            # "sent" event: one more publish inside every POST, and the queue's length
            # (what it would show) is in /metrics and Flower anyway.
            "worker_send_task_events": False,
            "task_send_sent_event": False,
            "worker_hijack_root_logger": False,
            "beat_schedule": self.beat_schedule(),
            # Beat keeps its schedule in memory: a lost run is repeated by the next one, so
            # a schedule file would only be shared state between beat processes.
            "beat_scheduler": "celery.beat:Scheduler",
        }


def _every(task: str, seconds: int) -> dict:
    """Return a beat entry sending ``task`` every ``seconds``; unrun copies expire."""
    # While no worker runs, beat keeps sending: expiring each message after one period
    # keeps those from piling up into a burst of identical runs once workers return.
    return {"task": task, "schedule": float(seconds), "options": {"expires": seconds}}
