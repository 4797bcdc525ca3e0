"""How long to wait before trying again: exponential backoff with "equal jitter".

One formula for every retry the system makes (a chunk whose database went away, a webhook
whose receiver failed, a request of the ``batchq`` command line), so that they all spread
out the same way: the wait doubles with each attempt up to a bound, and half of it is random,
so that many clients failing at once do not come back at once, yet none comes back at once
either. Standard library only: the command line uses it without the service's stack.
"""

from __future__ import annotations

import random

# 2**62 already exceeds any bound given in seconds; a higher attempt changes nothing.
_MAX_DOUBLINGS = 62


def backoff_seconds(attempt: int, *, base: float, maximum: float,
                    rng: random.Random | None = None) -> float:
    """Return the wait after failed attempt ``attempt`` (0 for the first failure).

    The step is ``base * 2**attempt``, at most ``maximum``; the wait is half the step plus
    a random part of up to the other half.
    """
    step = min(maximum, base * 2 ** min(max(attempt, 0), _MAX_DOUBLINGS))
    return step / 2 + (rng or random).uniform(0, step / 2)
