"""`python -m bench [--quick] [--cases N ...]`: runs every phase, prints the table, writes `bench/results.json`.

Exit status 0 once the figures are written (met or not: the table says which), 1 if the bench itself failed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import traceback

from bench.config import parse_args
from bench.report import elapsed, progress, table, write_json
from bench.run import run


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so every phase's `finally` stops the processes it started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    config = parse_args()
    progress(f"bench: {config}")
    figures, facts = asyncio.run(run(config))
    facts["run"]["wall_seconds"] = round(elapsed(), 1)
    write_json(config.out, figures, facts["run"], facts["measurements"])
    print()
    print(table(figures))
    met = sum(figure.met for figure in figures)
    print(f"\n{met} of {len(figures)} targets met; wall time {elapsed():.0f} s; figures in {config.out}")
    return 0


if __name__ == "__main__":
    status = 1
    try:
        status = main()
    except SystemExit as leaving:  # --help, or a bad flag
        status = leaving.code if isinstance(leaving.code, int) else 0
    except BaseException:  # noqa: BLE001  (Ctrl-C included: reported, then the same exit path)
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # the Temporal core can abort in interpreter finalisation (sdk-python #300)
