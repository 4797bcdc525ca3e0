"""A tenant's points rule: how many points a currency unit earns, and how many it costs.

A tenant without a rule of its own uses ``DEFAULT_EARNING_RATE`` and
``DEFAULT_REDEMPTION_RATE``; ``flask --app app tenants points-rule`` sets one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import psycopg

from app.config import Config

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PointsRule:
    """Points per currency unit: earned by spending it, and spent to redeem it."""

    earning_rate: Decimal
    redemption_rate: Decimal

    def points_earned(self, amount: Decimal) -> int:
        """Return the points ``amount`` earns, rounded down (a fraction is not earned)."""
        return math.floor(amount * self.earning_rate)

    def points_to_redeem(self, amount: Decimal) -> int:
        """Return the points that redeem ``amount``, rounded up (a fraction is not free)."""
        return math.ceil(amount * self.redemption_rate)

    def value_of(self, points: int) -> Decimal:
        """Return what ``points`` redeem in money, rounded down to the cent.

        Down, so that redeeming the value answered never costs more points than there are
        (``points_to_redeem`` rounds up).
        """
        return (Decimal(points) / self.redemption_rate).quantize(CENT, rounding=ROUND_FLOOR)


def default_rule(config: Config) -> PointsRule:
    """Return the rule of a tenant that has none of its own (``DEFAULT_*_RATE``)."""
    return PointsRule(config.DEFAULT_EARNING_RATE, config.DEFAULT_REDEMPTION_RATE)


def tenant_rule(conn: psycopg.Connection, tenant_id: int, default: PointsRule) -> PointsRule:
    """Return the tenant's rule, or ``default`` if it has none."""
    row = conn.execute("SELECT earning_rate, redemption_rate FROM points_rules"
                       " WHERE tenant_id = %s", (tenant_id,)).fetchone()
    return PointsRule(*row) if row else default


def set_tenant_rule(conn: psycopg.Connection, tenant_id: int, *,
                    earning_rate: Decimal | None, redemption_rate: Decimal | None,
                    default: PointsRule) -> PointsRule:
    """Change the given rates of the tenant's rule (the others stay); return the rule."""
    current = tenant_rule(conn, tenant_id, default)
    rule = PointsRule(current.earning_rate if earning_rate is None else earning_rate,
                      current.redemption_rate if redemption_rate is None else redemption_rate)
    conn.execute(
        "INSERT INTO points_rules (tenant_id, earning_rate, redemption_rate) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET earning_rate = EXCLUDED.earning_rate,"
        " redemption_rate = EXCLUDED.redemption_rate, updated_at = now()",
        (tenant_id, rule.earning_rate, rule.redemption_rate),
    )
    return rule
