"""The webhook signature: Stripe's scheme, keyed by the hex SHA-256 of the SecretKey."""

from __future__ import annotations

import hashlib

from app.domain.webhooks import sign, signing_key, verify

SECRET = "sk_test_secret"
BODY = b'{"jobId":"abc","status":"completed"}'


def test_the_server_key_is_what_the_client_derives_from_its_secret():
    digest = hashlib.sha256(SECRET.encode()).digest()  # what api_keys stores
    assert signing_key(digest) == hashlib.sha256(SECRET.encode()).hexdigest().encode()


def test_a_signature_verifies_only_for_its_body_secret_and_time():
    header = sign(BODY, signing_key(hashlib.sha256(SECRET.encode()).digest()), 1_800_000_000)
    assert header.startswith("t=1800000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify(header, BODY, SECRET, now=1_800_000_100)
    assert not verify(header, BODY + b" ", SECRET, now=1_800_000_100)
    assert not verify(header, BODY, SECRET + "x", now=1_800_000_100)
    assert not verify(header, BODY, SECRET, now=1_800_000_301)  # older than the tolerance
    assert not verify("v1=deadbeef", BODY, SECRET)
    assert not verify("t=soon,v1=deadbeef", BODY, SECRET)
