"""Generated customers: the same records for every phase, inserts first, then updates."""

from __future__ import annotations

GENDERS = ("M", "F", "O", "Other")
TAGS = ("vip", "newsletter_subscriber", "premium_member", "imported", "churn_risk")


def customer(prefix: str, number: int, version: int = 0) -> dict:
    """Return customer ``number`` of ``prefix``; ``version`` > 0 changes its fields (an update)."""
    customer_id = f"{prefix}-{number:08d}"
    return {
        "customerId": customer_id,
        "email": f"{customer_id}.v{version}@example.com",
        "name": f"Customer {number} v{version}",
        "gender": GENDERS[number % len(GENDERS)],
        "dateOfBirth": f"{1950 + number % 50}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "joinDate": f"20{10 + version % 15}-0{1 + number % 9}-1{number % 10}",
        "country": "EG",
        "tags": [TAGS[(number + version) % len(TAGS)], TAGS[(number + 2) % len(TAGS)]],
        "custom": {"loyalty_points": number * 10 + version, "favorite_color": "blue"},
    }


def batches(prefix: str, total: int, size: int, version: int = 0) -> list[list[dict]]:
    """Return ``total`` customers of ``prefix`` in lists of at most ``size``."""
    return [[customer(prefix, n, version) for n in range(start, min(start + size, total))]
            for start in range(0, total, size)]
