"""What points are worth: the most money they redeem, to the cent, never a cent more."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.store.points_rules import CENT, PointsRule

RATES = st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3)


@given(points=st.integers(0, 10**12), rate=RATES)
def test_the_value_of_points_is_the_most_they_redeem_to_the_cent(points, rate):
    rule = PointsRule(earning_rate=Decimal(1), redemption_rate=rate)
    value = rule.value_of(points)
    assert value.as_tuple().exponent == -2
    assert rule.points_to_redeem(value) <= points           # redeeming it is covered
    assert rule.points_to_redeem(value + CENT) > points     # a cent more is not


def test_the_value_is_rounded_down():
    assert PointsRule(Decimal(1), Decimal(3)).value_of(100) == Decimal("33.33")
    assert PointsRule(Decimal(1), Decimal("0.5")).value_of(7) == Decimal("14.00")
