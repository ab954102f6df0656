"""Two ways to load a system: as fast as it answers (closed loop) and at a fixed pace (open loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.stats import Latencies, Run

Call = Callable[[int], Awaitable[Any]]


async def closed_loop(count: int, concurrency: int, call: Call) -> Run:
    """At most `concurrency` calls in flight, the next one starting as one finishes: the system's maximum rate."""
    latencies: list[float] = []
    indices = iter(range(count))

    async def lane() -> None:
        for index in indices:  # one iterator shared by all lanes: each index is called once
            began = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - began)

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Run(count=count, seconds=time.perf_counter() - start, latencies=Latencies.of(latencies))


async def paced(count: int, rate: float, call: Call) -> Run:
    """Call i starts i/rate seconds in, whether or not earlier calls have finished, as independent clients do;
    a slow answer therefore shows as latency instead of quietly lowering the load."""
    latencies: list[float] = []
    start = time.perf_counter()

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        began = time.perf_counter()
        await call(index)
        latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(one(index) for index in range(count)))
    return Run(count=count, seconds=time.perf_counter() - start, latencies=Latencies.of(latencies))
