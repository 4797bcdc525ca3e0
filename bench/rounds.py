"""Rounds: the phases run several times, alternated, and each is reported by its median.

On a shared host the speed of the machine moves by a fifth within minutes, and a single
run's ratio compares two phases measured a minute apart: one slow moment decides it. So the
limit and the service run in rounds (limit, service, limit, service, ...), each round on
customers of its own, and the verdicts take the median over rounds of each round's ratio:
a ratio pairs phases measured close together, and the median keeps one disturbed round from
deciding. A phase's row shows its median round, and the range of all its rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from bench.results import Run

# Ratios that pair phases of the same round; the others (the naive peer, measured once)
# are taken between the median runs.
PAIRED = ("service_inserts_vs_limit", "service_updates_vs_limit", "two_workers_vs_one")


def median_runs(rounds: Sequence[dict[str, Run]]) -> dict[str, Run]:
    """Return, for each phase, the run of its median round (the lower middle one if even).

    The run keeps its timeline and CPU figures (a real round, not an average of rounds),
    and lists every round's records/s under ``rounds_per_second``, in the order they ran.
    """
    medians: dict[str, Run] = {}
    for key in dict.fromkeys(key for runs in rounds for key in runs):
        runs = [runs[key] for runs in rounds if key in runs]
        median = sorted(runs, key=lambda run: run.per_second)[(len(runs) - 1) // 2]
        if len(runs) > 1:
            median.extra["rounds_per_second"] = [round(run.per_second, 1) for run in runs]
        medians[key] = median
    return medians


def paired_ratios(rounds: Sequence[dict[str, Run]],
                  ratios: Callable[[dict[str, Run]], dict]) -> dict[str, list[float]]:
    """Return each paired ratio as ``ratios`` computes it within every round that has it."""
    per_round = [ratios(runs) for runs in rounds]
    return {key: [values[key] for values in per_round if values.get(key) is not None]
            for key in PAIRED}


def median_ratio(values: list[float]) -> float | None:
    """Return the median of a ratio over its rounds, rounded as ratios are; None if none."""
    return round(statistics.median(values), 2) if values else None
