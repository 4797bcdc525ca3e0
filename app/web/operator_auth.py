"""The operator token that guards the dashboard: a bearer header for scripts, a cookie for people.

The dashboard shows every tenant's jobs and can stop any of them, so it is off until
``OPERATOR_TOKEN`` is set. The login form trades the token for a cookie that holds an HMAC
of it, never the token itself: changing the token logs every browser out. The cookie is
``HttpOnly`` and ``SameSite=Strict``, and the dashboard's Stop call must also carry a header
that a cross-site form cannot send.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import request

from app.config import Config
from app.error_codes import NOT_FOUND, UNAUTHORIZED
from app.web.errors import ApiError

COOKIE = "batchq_operator"
# Sent by the dashboard's own script with every change it asks for (CSRF defence in depth).
ACTION_HEADER = "X-Batchq-Dashboard"


def session_cookie(token: str) -> str:
    """Return the cookie value that proves its holder gave ``token``."""
    return hmac.new(token.encode(), b"batchq dashboard session", hashlib.sha256).hexdigest()


def token_matches(config: Config, given: str) -> bool:
    """Return True if ``given`` is the operator token (compared in constant time)."""
    token = config.OPERATOR_TOKEN
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def is_operator(config: Config) -> bool:
    """Return True if the request carries the operator token, or the cookie the login gave."""
    if not config.OPERATOR_TOKEN:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(config, given.strip()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_cookie(config.OPERATOR_TOKEN).encode())


def require_enabled(config: Config) -> None:
    """Answer 404 while no OPERATOR_TOKEN is set: the dashboard is off."""
    if not config.OPERATOR_TOKEN:
        raise ApiError(NOT_FOUND, "The dashboard is off: set OPERATOR_TOKEN to turn it on.")


def require_operator(config: Config) -> None:
    """Answer 404 if the dashboard is off, 401 unless the request is an operator's."""
    require_enabled(config)
    if not is_operator(config):
        raise ApiError(UNAUTHORIZED, "Log in at /dashboard/login, or send "
                                        "Authorization: Bearer <OPERATOR_TOKEN>.")
