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
    """Per part: one process, or several metered together (an API's uvicorn worker processes). A process that
    ends meanwhile (uvicorn replaces a worker it finds unresponsive) counts nothing: CPU figures are diagnostic."""

    processes: dict[str, list[psutil.Process]]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)

    def start(self) -> None:
        self._start = {name: _readings(part) for name, part in self.processes.items()}

    def per_item_ms(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per case (or per request) since `start`, per part."""
        spent = {}
        for name, part in self.processes.items():
            now, before = _readings(part), self._start[name]
            seconds = sum(now[pid] - before[pid] for pid in now.keys() & before.keys())
            spent[name] = round(seconds * 1000 / items, 2)
        return spent


def _readings(part: list[psutil.Process]) -> dict[int, float]:
    readings = {}
    for process in part:
        try:
            readings[process.pid] = _cpu_seconds(process)
        except psutil.NoSuchProcess:
            pass
    return readings
