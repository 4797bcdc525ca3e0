"""Configuration: one environment-driven source for the web process and the workers.

Every variable is listed in the README with its default. The two that name servers
(``DATABASE_URL``, ``REDIS_URL``) have no default: a process started without them stops
with a message instead of silently talking to some other server. ``BROKER_URL`` defaults to
``REDIS_URL``: Redis is the broker unless RabbitMQ is named. A variable that is no longer read
stops the process too, naming its replacement, rather than being ignored while its user
believes it is in force.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from limits import RateLimitItem, parse_many

# What WEBHOOK_ALLOW_NETWORKS lists, and what HOST names.
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ConfigError(RuntimeError):
    """A setting is missing or cannot be parsed."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _rate(env: Mapping[str, str], name: str, default: str, *, positive: bool) -> Decimal:
    try:
        return parse_rate(env.get(name, "").strip() or default, positive=positive)
    except ValueError as error:
        raise ConfigError(f"{name} {error}") from None


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_rate(raw: str, *, positive: bool) -> Decimal:
    """Return ``raw`` as an exact points rate; ValueError says what a rate must be."""
    try:
        rate = Decimal(raw.strip())
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate < 0 or (positive and rate == 0):
        kind = "a positive" if positive else "a non-negative"
        raise ValueError(f"must be {kind} number of points per currency unit, got {raw!r}")
    return rate


def parse_rates(text: str) -> list[RateLimitItem]:
    """Parse request rates like ``"30/second;360 per 30 seconds"``; ValueError if not that."""
    rates = parse_many(text)
    if any(rate.amount < 1 for rate in rates):
        raise ValueError(f"a rate of zero requests in {text!r}")
    return rates


def _rates(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    try:
        parse_rates(value)
    except ValueError:
        raise ConfigError(f"{name} must be rates like '30/second;360 per 30 seconds', "
                          f"got {value!r}") from None
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    networks = []
    for item in filter(None, (part.strip() for part in env.get(name, "").split(","))):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as error:
            raise ConfigError(f"{name} must be networks separated by commas, like "
                              f"10.0.0.0/8,fd00::/8; {error}") from None
    return tuple(networks)


def _removed(env: Mapping[str, str], name: str, instead: str) -> None:
    if env.get(name, "").strip():
        raise ConfigError(f"{name} is no longer read: {instead}, and unset {name}")


def listen_address(env: Mapping[str, str], *, default: str) -> Address:
    """Return HOST, the address the API and Flower listen on, or ``default`` when unset."""
    raw = env.get("HOST", "").strip() or default
    try:
        return ipaddress.ip_address(raw)
    except ValueError:
        raise ConfigError("HOST must be the IP address to listen on (127.0.0.1 for this "
                          f"machine only, 0.0.0.0 for every interface), got {raw!r}") from None


def socket_address(host: Address, port: int | str) -> str:
    """Return ``host:port`` as gunicorn's bind and URLs write it: IPv6 in brackets."""
    return f"{host}:{port}" if host.version == 4 else f"[{host}]:{port}"


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
        # Celery's broker: RabbitMQ (amqp://...) or, by default, the Redis of REDIS_URL, which
        # keeps the live counters and the rate limits whichever broker carries the messages.
        self.BROKER_URL = env.get("BROKER_URL", "").strip() or self.REDIS_URL
        # A broker connection silent for about two heartbeats is dead: RabbitMQ gives a lost
        # worker's unacknowledged messages back then, and either end reconnects.
        self.BROKER_HEARTBEAT_SECONDS = _int(env, "BROKER_HEARTBEAT_SECONDS", 10, minimum=2)
        # Longest wait to connect to the broker or for it to take a message: a POST whose
        # broker is unreachable still answers (the sweeper sends the job later).
        self.BROKER_TIMEOUT_SECONDS = _int(env, "BROKER_TIMEOUT_SECONDS", 5, minimum=1)
        # "tenant:apikey:secretkey,..." provisioned at start, for development and tests.
        self.BATCH_API_KEYS = env.get("BATCH_API_KEYS", "")

        self.MAX_RECORDS_PER_REQUEST = _int(env, "MAX_RECORDS_PER_REQUEST", 1000, minimum=1)
        # Flask answers 413 for a larger body before reading it.
        self.MAX_CONTENT_LENGTH = _int(env, "MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
        # One chunk per full request: each chunk costs a task and a transaction, so fewer,
        # larger chunks cost the workers less CPU (docs/performance.md). Smaller chunks
        # spread one big job over more workers sooner.
        self.CHUNK_SIZE = _int(env, "CHUNK_SIZE", 1000, minimum=1)

        # Bulk jobs: NDJSON or CSV uploads of any size (docs/bulk.md). A streamed upload, or
        # the parts of a multi-part one together, hold at most BULK_MAX_RECORDS records and
        # BULK_MAX_BYTES bytes; a part at most BULK_PART_MAX_BYTES.
        self.BULK_MAX_RECORDS = _int(env, "BULK_MAX_RECORDS", 50_000_000, minimum=1)
        self.BULK_MAX_BYTES = _int(env, "BULK_MAX_BYTES", 16 * 2**30, minimum=1024)
        self.BULK_PART_MAX_BYTES = _int(env, "BULK_PART_MAX_BYTES", 100 * 2**20, minimum=1024)
        # Bulk jobs (open, queued or running) a tenant may have at once; one more is refused.
        self.BULK_MAX_ACTIVE_JOBS = _int(env, "BULK_MAX_ACTIVE_JOBS", 2, minimum=1)
        # Chunks of one bulk job in the bulk queue at once: the next is sent as one is
        # applied, so the jobs in the queue take turns. At least the worker processes of the
        # whole cluster, for one job to keep them all busy.
        self.BULK_CHUNKS_IN_FLIGHT = _int(env, "BULK_CHUNKS_IN_FLIGHT", 8, minimum=1)
        # A multi-part upload not closed this long after it was opened is discarded.
        self.BULK_UPLOAD_EXPIRY_HOURS = _int(env, "BULK_UPLOAD_EXPIRY_HOURS", 24, minimum=1)

        self.DB_POOL_MIN_SIZE = _int(env, "DB_POOL_MIN_SIZE", 1, minimum=0)
        self.DB_POOL_MAX_SIZE = _int(env, "DB_POOL_MAX_SIZE", 10, minimum=1)
        self.DB_STATEMENT_TIMEOUT_MS = _int(env, "DB_STATEMENT_TIMEOUT_MS", 30_000)
        self.DB_LOCK_TIMEOUT_MS = _int(env, "DB_LOCK_TIMEOUT_MS", 15_000)
        # Longest wait for a connection (and to open one): with PostgreSQL away, a POST
        # answers 503 after this long rather than hanging on the pool.
        self.DB_POOL_TIMEOUT_SECONDS = _int(env, "DB_POOL_TIMEOUT_SECONDS", 5, minimum=1)
        # A PostgreSQL connection whose other end fell silent (a host cut off) is dropped
        # after about this long, by both ends: TCP keepalives and TCP_USER_TIMEOUT on the
        # client (libpq) and, asked per session, on the server. Until then the server holds
        # the lost transaction's row locks (docs/cluster.md).
        self.DB_DEAD_PEER_SECONDS = _int(env, "DB_DEAD_PEER_SECONDS", 15, minimum=3)
        # A transaction whose client is alive but does nothing (a frozen process) is ended
        # after this long; a chunk's own pauses between statements are milliseconds.
        self.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = _int(
            env, "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 20_000, minimum=1000)

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
        # The sweeper re-enqueues an unfinished job that made no progress for this long, and
        # a chunk whose delivery began this long ago and holds no lock (its worker is gone);
        # with the interval below, either is picked up again within 30 s.
        self.STALLED_AFTER_SECONDS = _int(env, "STALLED_AFTER_SECONDS", 20, minimum=1)
        self.SWEEP_INTERVAL_SECONDS = _int(env, "SWEEP_INTERVAL_SECONDS", 10, minimum=1)
        # Each worker writes a heartbeat row this often; a host none of whose workers beat
        # for WORKER_LOST_AFTER_SECONDS shows as lost (/readyz, /metrics, the dashboard).
        self.WORKER_HEARTBEAT_SECONDS = _int(env, "WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
        self.WORKER_LOST_AFTER_SECONDS = _int(env, "WORKER_LOST_AFTER_SECONDS", 30, minimum=2)
        if self.WORKER_LOST_AFTER_SECONDS <= self.WORKER_HEARTBEAT_SECONDS:
            raise ConfigError("WORKER_LOST_AFTER_SECONDS must exceed WORKER_HEARTBEAT_SECONDS")
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
        self.CELERY_QUEUE = env.get("CELERY_QUEUE", "batch").strip() or "batch"
        # Bulk jobs and their chunks: a queue of their own, so that interactive jobs never
        # wait behind a bulk job's chunks (the workers take from both in turn).
        self.BULK_QUEUE = env.get("BULK_QUEUE", "bulk").strip() or "bulk"
        if self.BULK_QUEUE == self.CELERY_QUEUE:
            raise ConfigError("BULK_QUEUE must differ from CELERY_QUEUE: bulk chunks and "
                              "interactive jobs must not share one queue")
        # A web process opens its connections as it starts rather than in its first
        # requests, and web and worker processes keep what they loaded at start out of the
        # garbage collector's full passes (app/runtime/warmup.py, app/runtime/gc_freeze.py).
        self.WARM_START = _flag(env, "WARM_START", default=True)

        # Points per currency unit, for tenants without a rule of their own
        # (``flask --app app tenants points-rule``): earned by orders and cashback, and
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
        # Callbacks go to public addresses only (the SSRF guard, app.domain.webhook_targets),
        # and to these networks, which the operator lists one by one: `make run` and the
        # tests list loopback, where their receivers listen; nothing else is implied.
        _removed(env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
                 "list the networks webhooks may reach in WEBHOOK_ALLOW_NETWORKS instead "
                 "(127.0.0.0/8,::1/128 for receivers on this machine)")
        self.WEBHOOK_ALLOW_NETWORKS = _networks(env, "WEBHOOK_ALLOW_NETWORKS")
