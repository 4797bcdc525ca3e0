"""Completion webhooks: the final status body POSTed to the job's ``callbackUrl``, signed.

Signature (Stripe's scheme): the header ``Batchq-Signature: t=<unix time>,v1=<hex>`` where
``v1`` is HMAC-SHA256 over ``"{t}.{body}"``. The server keeps only a SHA-256 digest of each
SecretKey, so the HMAC key is that digest in hex: a client derives it from its SecretKey
(``sha256(secret).hexdigest()``), and nobody without the secret or the database can sign.

Delivery runs in its own Celery task on its own queue (``WEBHOOK_QUEUE``), never inside a
chunk: the process that ends a job only sends a message after its commit. Delivery is at
least once; a receiver dedupes by ``jobId``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
import orjson
import psycopg
import redis

from app.catalogue import title_of
from app.domain.status import status_body
from app.domain.webhook_targets import TargetRefused, post, resolve_target
from app.messaging import queue
from app.services import Services
from app.store import callbacks, jobs, tenants

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Batchq-Signature"
USER_AGENT = "batchq-webhook/1"


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the delivery is to be retried."""


def signing_key(secret_key_digest: bytes) -> bytes:
    """Return the HMAC key for a SecretKey's SHA-256 digest: the digest in lowercase hex."""
    return bytes(secret_key_digest).hex().encode()


def sign(body: bytes, key: bytes, timestamp: int) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(header: str, body: bytes, secret_key: str, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """Tell whether ``header`` signs ``body`` with ``secret_key``, sent within ``tolerance`` s.

    What a receiver does, shown in the README; ``tolerance`` refuses replays of old messages.
    """
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    key = signing_key(tenants.digest(secret_key))
    expected = sign(body, key, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def notify_job_ended(services: Services, job_id: int, *, pending: bool | None = None) -> None:
    """Send the job's webhook delivery, if it has a callback not yet delivered (after commit).

    ``pending`` is what ``callback_pending`` answered in the transaction that ended the job,
    if the caller asked there; otherwise it is looked up here.
    """
    if pending is None:
        try:
            with services.db.statement() as conn:
                pending = callbacks.callback_pending(conn, job_id)
        except psycopg.Error as error:
            log.warning("webhook of job %s not looked up: %s", job_id, error)
            return
    if pending:
        queue.enqueue_callback(services.celery, job_id)


def resend_forgotten(services: Services, *, older_than_seconds: int, limit: int = 100
                     ) -> list[int]:
    """Send again the webhooks of jobs that ended that long ago and were never attempted.

    Their message was lost: the broker was away when the job ended, or was flushed since.
    A Redis marker per job lets at most one copy through per ``WEBHOOK_RETRY_BACKOFF_MAX``
    (or ``older_than_seconds``, if longer), so a webhook queue that nobody consumes for a
    while does not fill up with copies. Returns the jobs whose webhook was sent again.
    """
    with services.db.transaction() as conn:
        forgotten = callbacks.never_attempted(conn, older_than_seconds, limit)
    guard = max(older_than_seconds, services.config.WEBHOOK_RETRY_BACKOFF_MAX)
    resent = []
    for job_id in forgotten:
        try:
            first = services.redis.set(f"batchq:{{{job_id}}}:webhook-resent", 1, nx=True, ex=guard)
        except redis.RedisError as error:
            log.warning("webhook of job %s not sent again: %s", job_id, error)
            break
        if first and queue.enqueue_callback(services.celery, job_id):
            resent.append(job_id)
    return resent


def deliver(services: Services, job_id: int) -> bool:
    """POST the ended job's status body to its callback; True if delivered now.

    Raises DeliveryFailed when the receiver fails or answers other than 2xx.
    """
    with services.db.transaction() as conn:
        callback = callbacks.find(conn, job_id)
        job = jobs.get_job(conn, job_id)
        if callback is None or callback.delivered_at is not None or job is None \
                or job.status not in jobs.FINISHED:
            return False
        chunks = jobs.done_chunks(conn, job_id)
    try:
        target = resolve_target(callback.url, allowed=services.config.WEBHOOK_ALLOW_NETWORKS)
    except TargetRefused as refused:
        # Not retried: the URL is the problem, not the moment.
        log.warning("webhook of job %s refused: %s", job_id, refused)
        _record_attempt(services, job_id, f"refused: {refused}"[:500])
        return False
    body = orjson.dumps(status_body(job, title_of(job.operation), chunks))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: sign(body, signing_key(callback.signing_key_digest), int(time.time()))}
    error = None
    try:
        # No redirects: a callback goes where the client said, not where a 30x points.
        with httpx.Client(follow_redirects=False,
                          timeout=services.config.WEBHOOK_TIMEOUT_SECONDS) as client:
            response = post(client, target, body, headers)
        if not response.is_success:
            error = f"the receiver answered HTTP {response.status_code}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    _record_attempt(services, job_id, error)
    if error is not None:
        raise DeliveryFailed(error)
    log.info("webhook of job %s delivered to %s", job_id, callback.url)
    return True


def _record_attempt(services: Services, job_id: int, error: str | None) -> None:
    """Count an attempt; no error means delivered."""
    with services.db.transaction() as conn:
        callbacks.record_attempt(conn, job_id, error)
