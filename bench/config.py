"""How big each phase is. The defaults are the issue's sizes, scaled to finish in under 10 minutes on 2 cores
(a to g; h, the major incident of 10,000 customers, takes at least 200 s more at 50 texts/s)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from pathlib import Path

MIN_ROUNDS = 3
RESULTS_FILE = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class BenchConfig:
    rounds: int = 3  # interleaved rounds (baseline, ours, baseline, ours, ...) of each speed ratio (a, b)
    concurrency: int = 16  # in-flight requests of the intake load (a) and of the case starts (b)
    intake_requests: int = 600  # per intake run (raw SDK, then the API); the half-load run makes half as many
    cases: int = 200  # S1 cases of the end-to-end run (b), and bare workflows of its baseline
    contact_seconds: float = 20.0  # length of the steady load for time to first contact (c)
    rows: int = 100_000  # synthetic cases in the read model for the supervisor queries (d)
    requests: int = 200  # per query kind (d)
    waiting: int = 5_000  # open cases waiting on a timer for the worker's memory (e)
    deadline: float = 540.0  # seconds into the bench when (e) stops waiting for more cases: 10 minutes in all
    affected: int = 10_000  # customers of the major incident (h)
    major_rate: float = 50.0  # the carriers' limit, texts per second, the major incident's fan-out keeps to (h)
    major_deadline: float = 1200.0  # seconds (h) may take before it fails rather than hangs
    out: Path = RESULTS_FILE


QUICK = BenchConfig(intake_requests=200, cases=40, contact_seconds=8.0, rows=20_000, requests=50, waiting=500,
                    deadline=240.0, affected=500)

_HELP = {
    "rounds": "interleaved rounds of each speed ratio; its median and spread are reported (at least 3)",
    "concurrency": "in-flight requests of the intake load and of the case starts",
    "intake_requests": "POST /incidents (and raw starts) per intake run",
    "cases": "S1 cases (and bare workflows) of the end-to-end run",
    "contact_seconds": "seconds of steady load for time to first contact",
    "rows": "synthetic cases bulk-inserted for the supervisor queries",
    "requests": "requests per query kind",
    "waiting": "open cases waiting on a timer while the worker's memory is read",
    "deadline": "seconds into the bench after which the memory phase measures with the cases it has",
    "affected": "customers of the major incident (h)",
    "major_rate": "texts per second the major incident's fan-out keeps to (h)",
    "major_deadline": "seconds the major incident phase may take before it fails (h)",
    "out": "where the figures are written as JSON",
}


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    """`--quick` picks small sizes for a smoke run; any size flag given overrides the chosen preset."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (about two minutes)")
    for field in fields(BenchConfig):
        flag = "--" + field.name.replace("_", "-")
        kind = Path if field.name == "out" else type(field.default)
        parser.add_argument(flag, type=kind, default=None, help=f"{_HELP[field.name]} (default {field.default})")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else BenchConfig()
    given = {field.name: getattr(args, field.name) for field in fields(BenchConfig)}
    config = replace(preset, **{name: value for name, value in given.items() if value is not None})
    if config.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}: fewer cannot show a median and its spread")
    return config
