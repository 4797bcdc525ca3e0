"""One backoff for every retry: doubling steps up to a bound, half of each wait random."""

from __future__ import annotations

import random

import pytest

from app.backoff import backoff_seconds


@pytest.mark.parametrize(("attempt", "step"), [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0),
                                               (10_000, 30.0), (-1, 0.5)])
def test_each_wait_is_between_half_its_step_and_the_step(attempt, step):
    rng = random.Random(attempt)
    waits = [backoff_seconds(attempt, base=0.5, maximum=30, rng=rng) for _ in range(200)]
    assert all(step / 2 <= wait <= step for wait in waits)
    assert max(waits) - min(waits) > step / 4  # the random half is used, not a constant

