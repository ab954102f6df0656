"""Percentiles and rates, the same way for every phase (nearest rank: a p99 is a latency someone really saw)."""

from __future__ import annotations

import math
from dataclasses import dataclass


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to take a percentile of")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    """Seconds in, milliseconds out: every latency target is in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latencies:
        return cls(count=len(seconds), p50_ms=percentile(seconds, 50) * 1000, p95_ms=percentile(seconds, 95) * 1000,
                   p99_ms=percentile(seconds, 99) * 1000, max_ms=max(seconds) * 1000)


@dataclass(frozen=True)
class Run:
    """A batch of calls: how many, how long it took from the first start to the last finish, and each latency."""

    count: int
    seconds: float
    latencies: Latencies

    @property
    def rate(self) -> float:
        return self.count / self.seconds
