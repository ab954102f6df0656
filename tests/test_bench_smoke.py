"""`make bench` works end to end: in a tiny configuration it reports every figure of issue 6 (a to f), each
beside its target and whether it is met. Timing values are not asserted: tests check behaviour, not speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from settings import PROJECT_DIR

TINY = ["--quick", "--intake-requests", "20", "--cases", "4", "--contact-seconds", "1", "--rows", "300",
        "--requests", "7", "--waiting", "10", "--deadline", "50"]


def test_the_bench_reports_every_figure_beside_its_target(tmp_path):
    out = tmp_path / "results.json"
    env = {name: value for name, value in os.environ.items() if name != "TEMPORAL_ADDRESS"}  # its own server
    finished = subprocess.run([sys.executable, "-m", "bench", *TINY, "--out", str(out)], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    report = json.loads(out.read_text())
    figures = report["figures"]
    assert {figure["section"] for figure in figures} == set("abcdef")
    for figure in figures:
        assert isinstance(figure["value"], int | float), figure
        assert figure["target_op"] in {">=", "<", "<="} and isinstance(figure["target_limit"], int | float), figure
        assert isinstance(figure["met"], bool), figure
        assert figure["basis"], figure
        assert figure["name"] in finished.stdout, "every figure is in the printed table too"
    speed = {figure["section"] for figure in figures if figure["unit"] == "x"}
    assert speed == {"a", "b"}, "intake and end-to-end speed are ratios to baselines of the same run"
