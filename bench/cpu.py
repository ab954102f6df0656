"""CPU seconds each process spent during a measured window: on a shared 2-core machine this says where a
ratio's difference went (our worker, our API, the Temporal server, the bench's own client)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psutil


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class CpuMeter:
    """Per part: one process, or several metered together (an API's uvicorn worker processes)."""

    processes: dict[str, list[psutil.Process]]
    _start: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._start = {name: _part_seconds(part) for name, part in self.processes.items()}

    def per_item_ms(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per case (or per request) since `start`, per part."""
        return {name: round((_part_seconds(part) - self._start[name]) * 1000 / items, 2)
                for name, part in self.processes.items()}


def _part_seconds(part: list[psutil.Process]) -> float:
    return sum(_cpu_seconds(process) for process in part)
