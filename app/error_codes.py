"""Error codes: Gameball's published catalogue, and ours for the cases it has no code for.

Every error the API answers and every record that fails carries one of these codes. Codes
follow Gameball's classes (1xxx authentication, 2xxx request, 3xxx payload, 4xxx general,
5xxx server, 7xxx customer, 9xxx transaction) and, where Gameball publishes a code for the
case, are Gameball's own, with its HTTP status. Ours are ``4000 + (HTTP status - 400)`` (4005
for a 405, 4029 for a 429, ...), none of them a value Gameball uses. ``GET /docs/errors``
and the README's error table list them all.
"""

from __future__ import annotations

from dataclasses import dataclass

_CLASS_TYPES = {1: "Authentication Error", 2: "Request Error", 3: "Payload Error",
                4: "General Error", 5: "Server Error", 6: "Configuration Error",
                7: "Customer Error", 8: "Subscription Error", 9: "Transaction Error"}


@dataclass(frozen=True)
class ErrorCode:
    """One code: the HTTP status an error with it answers, and what it means."""

    code: int
    status: int
    meaning: str
    gameball: bool = True  # published by Gameball; False: one of ours

    @property
    def type(self) -> str:
        """The error's type, named by its code's class (Gameball's wording)."""
        return _CLASS_TYPES[self.code // 1000]


CATALOGUE: dict[int, ErrorCode] = {}


def _code(code: int, status: int, meaning: str, *, gameball: bool = True) -> ErrorCode:
    entry = CATALOGUE[code] = ErrorCode(code, status, meaning, gameball)
    return entry


UNAUTHORIZED = _code(1000, 401, "Unauthorized: the APIKey and SecretKey match no active key pair")
MISSING_SECRET_KEY = _code(1001, 401, "The SecretKey (or APIKey) header is missing")
MISSING_ARGUMENTS = _code(3000, 400, "A required argument is missing")
INVALID_VALUE = _code(3003, 422, "A value is not valid")
NOT_ACHIEVABLE = _code(3004, 400, "The operation cannot be done in the current state")
EXCEEDS_LIMITS = _code(3011, 422, "More records than a request may hold")
UNSUPPORTED_TYPE = _code(3013, 415, "The request's content type is not supported")
INVALID_PAYLOAD = _code(3016, 400, "The body is not valid JSON or not the expected shape")
NOT_FOUND = _code(4004, 404, "No such resource (or not yours)")
UNEXPECTED = _code(5000, 500, "An unexpected error; it has been logged")
UNAVAILABLE = _code(5003, 503, "A server the service needs is unavailable; retry shortly")
CUSTOMER_NOT_FOUND = _code(7000, 404, "No such customer")
TRANSACTION_NOT_FOUND = _code(9002, 404, "No such transaction (or order)")
DUPLICATE_TRANSACTION_ID = _code(9004, 422, "The transaction id was applied already")
INVALID_TRANSACTION_TIME = _code(9007, 422, "The transaction time is not valid")
INSUFFICIENT_BALANCE = _code(9008, 422, "The balance does not cover the points")

METHOD_NOT_ALLOWED = _code(4005, 405, "The path does not take this method", gameball=False)
ALREADY_ENDED = _code(4009, 409, "The job already completed or failed: it cannot be stopped",
                      gameball=False)
BODY_TOO_LARGE = _code(4013, 413, "The body is larger than the service accepts", gameball=False)
URI_TOO_LONG = _code(4014, 414, "The request line is too long", gameball=False)
IDEMPOTENCY_KEY_REUSED = _code(4022, 422, "The Idempotency-Key was used with another request",
                               gameball=False)
RATE_LIMITED = _code(4029, 429, "Too many requests for this APIKey; wait Retry-After seconds",
                     gameball=False)
HEADERS_TOO_LARGE = _code(4031, 431, "Too many or too large headers", gameball=False)


def for_status(status: int) -> ErrorCode:
    """Return the code an error of HTTP ``status`` answers with when nothing more precise is
    known (an error raised by the framework or the HTTP server itself)."""
    return _BY_STATUS.get(status, UNEXPECTED if status >= 500 else INVALID_PAYLOAD)


# The framework's own errors, by status: a 400 it raises is a body it could not read.
_BY_STATUS = {entry.status: entry for entry in (
    MISSING_SECRET_KEY, INVALID_PAYLOAD, NOT_FOUND, METHOD_NOT_ALLOWED, ALREADY_ENDED,
    BODY_TOO_LARGE, URI_TOO_LONG, UNSUPPORTED_TYPE, INVALID_VALUE, RATE_LIMITED,
    HEADERS_TOO_LARGE, UNEXPECTED, UNAVAILABLE)}
