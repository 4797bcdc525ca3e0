"""Tenants and their API key pairs: creation, provisioning, revocation and lookup.

A pair is an ``APIKey`` that names the account and a ``SecretKey`` that proves it. Both
are stored as SHA-256 digests only; the clear values are shown once, when created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.store.statements import rendered

# Compared against when the APIKey is unknown, so that a wrong APIKey and a wrong
# SecretKey cost the same work and look the same from outside.
_DUMMY_DIGEST = hashlib.sha256(b"no such key").digest()


@dataclass(frozen=True)
class KeyPair:
    """A clear APIKey/SecretKey pair, as given to a tenant once."""

    api_key: str
    secret_key: str


@dataclass(frozen=True)
class Tenant:
    """The account a request acts for."""

    id: int
    name: str
    # The digest of the SecretKey the request authenticated with: the webhook signing key
    # derives from it, so nothing hashes the header a second time.
    secret_key_digest: bytes = field(repr=False)


def digest(value: str) -> bytes:
    """Return the stored digest of a key."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def generate_key_pair() -> KeyPair:
    """Return a new random key pair."""
    return KeyPair(api_key="ak_" + secrets.token_urlsafe(24),
                   secret_key="sk_" + secrets.token_urlsafe(32))


def ensure_tenant(conn: psycopg.Connection, name: str) -> int:
    """Return the id of tenant ``name``, creating it if needed."""
    row = conn.execute(
        "INSERT INTO tenants (name) VALUES (%s) ON CONFLICT (name) DO NOTHING RETURNING id",
        (name,),
    ).fetchone()
    return row[0] if row else find_tenant(conn, name)


def find_tenant(conn: psycopg.Connection, name: str) -> int | None:
    """Return the id of tenant ``name``, or None."""
    row = conn.execute("SELECT id FROM tenants WHERE name = %s", (name,)).fetchone()
    return row[0] if row else None


def add_key_pair(conn: psycopg.Connection, tenant_id: int, pair: KeyPair) -> bool:
    """Store ``pair`` for the tenant; return False if that APIKey already exists."""
    row = conn.execute(
        "INSERT INTO api_keys (tenant_id, api_key_digest, secret_key_digest, api_key_hint)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (api_key_digest) DO NOTHING RETURNING id",
        (tenant_id, digest(pair.api_key), digest(pair.secret_key), pair.api_key[:6]),
    ).fetchone()
    return row is not None


def create_tenant(conn: psycopg.Connection, name: str) -> KeyPair:
    """Create tenant ``name`` (or reuse it) with a new key pair; return the pair."""
    tenant_id = ensure_tenant(conn, name)
    pair = generate_key_pair()
    add_key_pair(conn, tenant_id, pair)
    return pair


def revoke_key(conn: psycopg.Connection, api_key: str) -> bool:
    """Revoke the pair whose APIKey is ``api_key``; return False if none was active."""
    row = conn.execute(
        "UPDATE api_keys SET revoked_at = now()"
        " WHERE api_key_digest = %s AND revoked_at IS NULL RETURNING id",
        (digest(api_key),),
    ).fetchone()
    return row is not None


def delete_key(conn: psycopg.Connection, api_key: str) -> bool:
    """Delete the pair whose APIKey is ``api_key``; return False if there was none.

    Unlike a revocation, nothing stays behind: provisioning the same pair again adds it anew.
    For a pair that must stop working while a public copy of it exists (``make run``'s demo).
    """
    row = conn.execute("DELETE FROM api_keys WHERE api_key_digest = %s RETURNING id",
                       (digest(api_key),)).fetchone()
    return row is not None


def parse_key_spec(spec: str) -> list[tuple[str, KeyPair]]:
    """Parse ``"tenant:apikey:secretkey,..."`` into (tenant, pair) tuples."""
    entries = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        parts = item.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"BATCH_API_KEYS entry {item!r} is not tenant:apikey:secretkey")
        entries.append((parts[0], KeyPair(parts[1], parts[2])))
    return entries


def provision(conn: psycopg.Connection, spec: str) -> int:
    """Provision the pairs of a ``BATCH_API_KEYS`` spec; return how many were new."""
    added = 0
    for name, pair in parse_key_spec(spec):
        added += add_key_pair(conn, ensure_tenant(conn, name), pair)
    return added


# An APIKey's active pair and its tenant, for statements that join more to it: select
# KEY_PAIR_COLUMNS from KEY_PAIR_TABLES where ACTIVE_KEY_PAIR (its one parameter: the
# APIKey's digest); verified_tenant then checks the SecretKey against the row, read by name.
KEY_PAIR_COLUMNS = sql.SQL("t.id AS tenant_id, t.name AS tenant_name, k.secret_key_digest")
KEY_PAIR_TABLES = sql.SQL("api_keys k JOIN tenants t ON t.id = k.tenant_id")
ACTIVE_KEY_PAIR = sql.SQL("k.api_key_digest = %s AND k.revoked_at IS NULL")


def authenticate(conn: psycopg.Connection, api_key: str, secret_key: str) -> Tenant | None:
    """Return the tenant owning this active pair, or None."""
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(_AUTHENTICATE, (digest(api_key),)).fetchone()
    return verified_tenant(row, secret_key)


_AUTHENTICATE = rendered(sql.SQL("SELECT {} FROM {} WHERE {}").format(
    KEY_PAIR_COLUMNS, KEY_PAIR_TABLES, ACTIVE_KEY_PAIR))


def verified_tenant(row: Mapping[str, Any] | None, secret_key: str) -> Tenant | None:
    """Return the tenant of a ``KEY_PAIR_COLUMNS`` row if ``secret_key`` is its pair's, else None.

    The digests are compared in constant time, against a dummy when there is no row, so
    that an unknown APIKey and a wrong SecretKey take the same time.
    """
    expected = row["secret_key_digest"] if row else _DUMMY_DIGEST
    matches = hmac.compare_digest(digest(secret_key), bytes(expected))
    if row is None or not matches:
        return None
    return Tenant(id=row["tenant_id"], name=row["tenant_name"],
                  secret_key_digest=bytes(row["secret_key_digest"]))
