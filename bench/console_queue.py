"""(d) The console's queue over the same full read model: the HTML page a supervisor opens, first page and the
next one by keyset, through the real API process with a signed-in session (issue 14: first page under 300 ms).
Measured at the client over loopback, so the figure includes the HTTP hop: the server's own time is less."""

from __future__ import annotations

import re
import time
from html import unescape

import httpx

from bench import console_live
from bench.context import Bench
from bench.processes import Api
from bench.report import Figure, progress, under
from bench.stats import Latencies
from console.session import SESSION_COOKIE
from store.db import session_for
from store.sessions import sign_in

VIEWS = {"open cases, first page": "/console/", "closed cases, first page": "/console/?status=closed"}


def session_token(bench: Bench, email: str, password: str) -> str:
    with session_for(bench.database_url) as session:
        token = sign_in(session, email, password)
    if token is None:
        raise RuntimeError(f"the bench's supervisor {email} could not sign in to the console")
    return token


async def run(bench: Bench, api: Api, email: str, password: str) -> list[Figure]:
    cookies = {SESSION_COOKIE: session_token(bench, email, password)}
    seconds: dict[str, list[float]] = {name: [] for name in [*VIEWS, "next page (keyset)"]}
    async with httpx.AsyncClient(base_url=api.url, cookies=cookies, trust_env=False, timeout=30) as http:
        for _ in range(max(1, bench.config.requests // len(VIEWS))):
            for name, path in VIEWS.items():
                page = await timed(http, path, seconds[name])
                if name.startswith("open") and (older := re.search(r'href="(/console/\?[^"]*after=[^"]+)"', page)):
                    await timed(http, unescape(older[1]), seconds["next page (keyset)"])
        live = await console_live.run(bench, api, http)
    per_view = {name: round(Latencies.of(s).p95_ms, 1) for name, s in seconds.items() if s}
    first = Latencies.of(seconds["open cases, first page"])
    progress(f"d. console queue p95 per view (ms): {per_view}")
    bench.measurements.setdefault("queries", {})["console_queue_p95_ms"] = per_view
    return [Figure("d", "console queue, first page p95", first.p95_ms, "ms", under(300),
                   f"{first.count} loads of the HTML page over {bench.config.rows} cases, signed in; "
                   f"p95 per view (ms): {per_view}", {"per_view_p95_ms": per_view}), live]


async def timed(http, path: str, into: list[float]) -> str:
    began = time.perf_counter()
    response = await http.get(path)
    into.append(time.perf_counter() - began)
    response.raise_for_status()
    return response.text
