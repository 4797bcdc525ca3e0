"""What a phase measured, and the arithmetic on it (throughput, percentiles, time series)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Run:
    """Records moved by one phase, in how long, with when each chunk of them was done."""

    name: str
    records: int
    seconds: float
    started: float                # wall clock (epoch seconds) of the first write or POST
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (epoch, records done)
    extra: dict = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        """Return the records per second over the whole run."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def series(self, bin_seconds: float = 1.0) -> list[tuple[float, float]]:
        """Return (seconds since start, records/s) in bins of ``bin_seconds``."""
        bins: dict[int, int] = {}
        for moment, count in self.timeline:
            slot = int(max(0.0, moment - self.started) // bin_seconds)
            bins[slot] = bins.get(slot, 0) + count
        if not bins:
            return []
        return [((slot + 0.5) * bin_seconds, bins.get(slot, 0) / bin_seconds)
                for slot in range(max(bins) + 1)]

    def summary(self) -> dict:
        """Return the run's figures for the JSON report."""
        return {"records": self.records, "seconds": round(self.seconds, 3),
                "per_second": round(self.per_second, 1), **self.extra}


def percentile(samples: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile of ``samples`` (nearest rank), or None if empty."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def latency_summary(samples_ms: list[float]) -> dict:
    """Return the count, p50, p99 and max of latency samples in milliseconds."""
    def rounded(value):
        return None if value is None else round(value, 2)
    return {"count": len(samples_ms), "p50_ms": rounded(percentile(samples_ms, 0.50)),
            "p99_ms": rounded(percentile(samples_ms, 0.99)),
            "max_ms": rounded(max(samples_ms) if samples_ms else None)}
