"""What the bench tells people: a progress line per phase, the table of figures against targets, and the JSON."""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_STARTED = time.monotonic()


@dataclass(frozen=True)
class Target:
    """A limit and its direction. `at_least` for ratios, `under`/`at_most` for latencies, memory and events."""

    op: str  # ">=", "<" or "<="
    limit: float

    def met_by(self, value: float) -> bool:
        return {">=": value >= self.limit, "<": value < self.limit, "<=": value <= self.limit}[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}"


def at_least(limit: float) -> Target:
    return Target(">=", limit)


def under(limit: float) -> Target:
    return Target("<", limit)


def at_most(limit: float) -> Target:
    return Target("<=", limit)


@dataclass
class Figure:
    """One line of the table. `basis` names what the value was measured against, so a ratio can be checked."""

    section: str  # a..f as in issue 6; g: the scaled-out set-up of issue 10; h: a major incident (issue 16)
    name: str
    value: float
    unit: str
    target: Target
    basis: str
    detail: dict[str, Any] = field(default_factory=dict)
    rounds: list[float] = field(default_factory=list)  # a ratio's value in each interleaved round

    @classmethod
    def of_rounds(cls, section: str, name: str, rounds: list[float], target: Target, basis: str,
                  detail: dict[str, Any] | None = None) -> Figure:
        """A ratio measured in several interleaved rounds: its value is their median, its spread min to max."""
        return cls(section, name, statistics.median(rounds), "x", target, basis, detail or {}, rounds)

    @property
    def met(self) -> bool:
        return self.target.met_by(self.value)

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.rounds), max(self.rounds)) if self.rounds else None

    def as_json(self) -> dict[str, Any]:
        spread = {"spread_min": self.spread[0], "spread_max": self.spread[1]} if self.spread else {}
        return {**asdict(self), **spread, "target": str(self.target), "target_op": self.target.op,
                "target_limit": self.target.limit, "met": self.met}


def progress(text: str) -> None:
    """One line per phase, with the time since the bench began, so a slow phase is visible while it runs."""
    sys.stdout.write(f"[bench {time.monotonic() - _STARTED:6.1f}s] {text}\n")
    sys.stdout.flush()


def elapsed() -> float:
    return time.monotonic() - _STARTED


def table(figures: list[Figure]) -> str:
    rows = [("", "figure", "value", "target", "met", "measured against")]
    for figure in figures:
        rows.append((figure.section, figure.name, _value(figure),
                     f"{figure.target} {figure.unit}".strip(), "yes" if figure.met else "NO", figure.basis))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)) + "  " + row[-1]
             for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def write_json(path: Path, figures: list[Figure], run: dict[str, Any], measurements: dict[str, Any]) -> None:
    document = {"run": run, "figures": [figure.as_json() for figure in figures], "measurements": measurements}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def _value(figure: Figure) -> str:
    """'0.82 x (0.78-0.85, 3 rounds)' for a ratio of rounds: the median, then its spread."""
    text = f"{_number(figure.value)} {figure.unit}".strip()
    if figure.spread:
        low, high = figure.spread
        text += f" ({_number(low)}-{_number(high)}, {len(figure.rounds)} rounds)"
    return text


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
