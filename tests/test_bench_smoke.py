"""`make bench` works end to end: in a tiny configuration it reports every figure of issue 6 (a to f), of the
2+2 PostgreSQL set-up (g) and of a major incident's fan-out (h), each beside its target and whether it is met,
and each speed ratio as the median of interleaved rounds with its spread (issue 10). Timing values are not
asserted: tests check behaviour, not speed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from settings import PROJECT_DIR

TINY = ["--quick", "--intake-requests", "20", "--cases", "4", "--contact-seconds", "1", "--rows", "300",
        "--requests", "7", "--waiting", "10", "--deadline", "50", "--affected", "20"]


def test_the_bench_reports_every_figure_beside_its_target(tmp_path):
    out = tmp_path / "results.json"
    env = {name: value for name, value in os.environ.items() if name != "TEMPORAL_ADDRESS"}  # its own server
    env["API_PROCESSES"] = "1"  # each API starts faster; several processes are `make run`'s test
    finished = subprocess.run([sys.executable, "-m", "bench", *TINY, "--out", str(out)], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=900)  # a hang, not a speed: 185 s under load
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    report = json.loads(out.read_text())
    figures = report["figures"]
    assert {figure["section"] for figure in figures} == set("abcdefgh")
    for figure in figures:
        assert isinstance(figure["value"], int | float), figure
        assert figure["target_op"] in {">=", "<", "<="} and isinstance(figure["target_limit"], int | float), figure
        assert isinstance(figure["met"], bool), figure
        assert figure["basis"], figure
        assert figure["name"] in finished.stdout, "every figure is in the printed table too"
    assert {"console queue, first page p95", "console: new case in an open queue, slowest"} <= {
        figure["name"] for figure in figures}, "issue 14's page and its live poll, timed"
    ratios = [figure for figure in figures if figure["unit"] == "x"]
    assert {figure["section"] for figure in ratios} == {"a", "b", "g"}, "speed figures are ratios to same-run baselines"
    assert any("bare FastAPI" in figure["name"] for figure in ratios), "intake against the framework limit too"
    for figure in ratios:
        assert len(figure["rounds"]) >= 3, "each ratio comes from at least three interleaved rounds"
        assert figure["value"] == statistics.median(figure["rounds"]), "the figure is the rounds' median"
        assert (figure["spread_min"], figure["spread_max"]) == (min(figure["rounds"]), max(figure["rounds"]))
        assert f"{len(figure['rounds'])} rounds)" in finished.stdout, "the table prints the spread"
