"""Rate limits per API key, counted in Redis with the ``limits`` library.

Writes (POST, DELETE, ...) and reads (GET) have separate limits, each a list of rates in the
``limits`` notation (``"30/second;360 per 30 seconds"``). Counting uses fixed windows: one
``INCR`` per rate and request. The limiter fails open: when Redis errs or is slow, requests
are served uncounted (a limiter must never turn into a 5xx), and it stops asking Redis for a
few seconds so that every request does not pay the timeout.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis
from flask import Flask, current_app
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from app.config import Config, parse_rates
from app.store import tenants

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateLimiter:
    """Counts each key's reads and writes; says how long to wait once over a limit."""

    def __init__(self, client: redis.Redis, *, writes: str, reads: str,
                 pause_after_error: float = 5.0) -> None:
        storage = RedisStorage("redis://", connection_pool=client.connection_pool,
                               wrap_exceptions=True, key_prefix="batchq:ratelimit")
        self._limiter = FixedWindowRateLimiter(storage)
        self._rates = {"write": parse_rates(writes), "read": parse_rates(reads)}
        self._pause_after_error = pause_after_error
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def retry_after(self, api_key: str, method: str) -> int | None:
        """Count one request; return the seconds to wait if it is over a limit, else None."""
        if time.monotonic() < self._paused_until:
            return None
        kind = "read" if method in READ_METHODS else "write"
        # The key itself is not stored, only a digest of it.
        who = tenants.digest(api_key).hex()[:32]
        try:
            for rate in self._rates[kind]:
                if not self._limiter.hit(rate, kind, who):
                    reset_at = self._limiter.get_window_stats(rate, kind, who).reset_time
                    return max(1, math.ceil(reset_at - time.time()))
        except (StorageError, redis.RedisError, OSError) as error:
            with self._lock:
                self._paused_until = time.monotonic() + self._pause_after_error
            log.warning("rate limiter unavailable, serving uncounted for %.0fs: %s",
                        self._pause_after_error, error)
        return None


_EXTENSION = "batchq-rate-limiter"


def init_rate_limiter(app: Flask, client: redis.Redis, config: Config) -> None:
    """Give ``app`` its rate limiter, counting in ``client`` with the configured rates."""
    app.extensions[_EXTENSION] = RateLimiter(client, writes=config.RATE_LIMIT_WRITES,
                                             reads=config.RATE_LIMIT_READS)


def current_rate_limiter() -> RateLimiter:
    """Return the current application's rate limiter."""
    return current_app.extensions[_EXTENSION]
