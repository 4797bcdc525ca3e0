"""Authenticating a request from its ``APIKey`` and ``SecretKey`` headers.

A missing key, an unknown APIKey, a wrong SecretKey and a revoked pair all answer the
same 401, so a caller learns nothing about which part was wrong. Requests are counted
against the APIKey's rate limits before the pair is checked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psycopg
from flask import g, request

from app.error_codes import MISSING_SECRET_KEY, RATE_LIMITED, UNAUTHORIZED
from app.observability import logs
from app.services import Services
from app.store import tenants
from app.web.errors import ApiError
from app.web.ratelimit import current_rate_limiter

_provisioned_lock = threading.Lock()
_provisioned_for: set[str] = set()


@dataclass(frozen=True)
class AdmittedKeys:
    """A request's key pair, present and within its APIKey's rate limits, not yet checked."""

    api_key: str
    secret_key: str


def authenticate_request(services: Services) -> tenants.Tenant:
    """Return the tenant of the request's key pair; raise 401 if there is none."""
    keys = admit_request(services)
    with services.db.statement() as conn:  # one SELECT: no BEGIN and COMMIT around it
        return identify(conn, keys)


def admit_request(services: Services) -> AdmittedKeys:
    """Return the request's keys; 401 if one is missing, 429 past the APIKey's rate limits.

    Needs no database: a request refused here never takes a connection from the pool.
    """
    provision_keys(services)
    api_key = request.headers.get("APIKey", "")
    secret_key = request.headers.get("SecretKey", "")
    if not api_key or not secret_key:
        raise ApiError(MISSING_SECRET_KEY, "Send your keys in the APIKey and SecretKey headers.")
    # Counted before the key is checked, so guessing secrets for a key is limited too.
    wait = current_rate_limiter().retry_after(api_key, request.method)
    if wait is not None:
        raise ApiError(RATE_LIMITED, f"Too many requests for this APIKey; retry in {wait} s.",
                       headers={"Retry-After": str(wait)})
    return AdmittedKeys(api_key, secret_key)


def identify(conn: psycopg.Connection, keys: AdmittedKeys) -> tenants.Tenant:
    """Return the tenant of an admitted key pair, looked up on the caller's connection."""
    return accept(tenants.authenticate(conn, keys.api_key, keys.secret_key))


def accept(tenant: tenants.Tenant | None) -> tenants.Tenant:
    """Make ``tenant`` (an admitted pair's, None if it matched none) the request's; else 401."""
    if tenant is None:
        raise ApiError(UNAUTHORIZED, "The APIKey and SecretKey do not match an active key pair.")
    g.tenant = tenant
    logs.bind(tenant=tenant.name)
    return tenant


def provision_keys(services: Services) -> None:
    """Store the pairs of BATCH_API_KEYS, once per process, before the first check."""
    spec = services.config.BATCH_API_KEYS
    if not spec or spec in _provisioned_for:
        return
    with _provisioned_lock:
        if spec in _provisioned_for:
            return
        with services.db.transaction() as conn:
            tenants.provision(conn, spec)
        _provisioned_for.add(spec)
