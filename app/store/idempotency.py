"""Idempotent submits: an ``Idempotency-Key`` names the first job submitted with it.

The key row is written in the job's own transaction, after the job's rows: a key never
names an uncommitted job. Two identical requests racing both insert; PostgreSQL makes the
second wait on the first's unique-index entry, then report the conflict, and the second
undoes its job (a savepoint) and answers with the first one's. A key older than
``IDEMPOTENCY_KEY_TTL_HOURS`` is treated as unused and taken over; the retention purge
deletes such keys later (``purge_expired``), outside any request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg


class KeyReused(Exception):
    """The key already names a job submitted with another request."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id)
        self.job_id = job_id


@dataclass(frozen=True)
class Submission:
    """The job a request stands for, and whether it was created by an earlier request."""

    job_id: int
    replayed: bool


class _TakenMeanwhile(Exception):
    """Another transaction claimed the key first: undo this request's job."""


def fingerprint(*parts: Any) -> bytes:
    """Return the SHA-256 of ``parts`` as canonical JSON (object keys sorted)."""
    return hashlib.sha256(orjson.dumps(list(parts), option=orjson.OPT_SORT_KEYS)).digest()


def submit_once(conn: psycopg.Connection, tenant_id: int, key: str, request_fingerprint: bytes,
                ttl_hours: int, create_job: Callable[[], int]) -> Submission:
    """Return the job named by ``key``, creating it with ``create_job`` if the key is new."""
    existing = _find(conn, tenant_id, key, ttl_hours)
    if existing is None:
        try:
            with conn.transaction():
                job_id = create_job()
                if _claim(conn, tenant_id, key, request_fingerprint, job_id, ttl_hours):
                    return Submission(job_id, replayed=False)
                raise _TakenMeanwhile
        except _TakenMeanwhile:
            existing = _find(conn, tenant_id, key, ttl_hours)
    stored_fingerprint, job_id = existing
    if bytes(stored_fingerprint) != request_fingerprint:
        raise KeyReused(job_id)
    return Submission(job_id, replayed=True)


def _find(conn: psycopg.Connection, tenant_id: int, key: str, ttl_hours: int):
    return conn.execute(
        "SELECT fingerprint, job_id FROM idempotency_keys WHERE tenant_id = %s AND key = %s"
        " AND created_at > now() - make_interval(hours => %s)",
        (tenant_id, key, ttl_hours),
    ).fetchone()


def _claim(conn: psycopg.Connection, tenant_id: int, key: str, request_fingerprint: bytes,
           job_id: int, ttl_hours: int) -> bool:
    """Store the key for ``job_id``, or take over an expired one; False if it is live."""
    row = conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, job_id)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id, key) DO UPDATE"
        " SET fingerprint = excluded.fingerprint, job_id = excluded.job_id, created_at = now()"
        " WHERE idempotency_keys.created_at <= now() - make_interval(hours => %s)"
        " RETURNING 1",
        (tenant_id, key, request_fingerprint, job_id, ttl_hours),
    ).fetchone()
    return row is not None


def purge_expired(conn: psycopg.Connection, ttl_hours: int, limit: int) -> int:
    """Delete up to ``limit`` keys older than ``ttl_hours``; return how many.

    SKIP LOCKED passes over a key a submit is taking over right now.
    """
    return conn.execute(
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
        " WHERE created_at <= now() - make_interval(hours => %s)"
        " LIMIT %s FOR UPDATE SKIP LOCKED)",
        (ttl_hours, limit),
    ).rowcount
