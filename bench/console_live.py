"""(d) How soon a new case shows in an open queue (issue 14: within 2 s of its `POST /incidents`). The bench holds
the open queue as a browser does: it loads the page once, then posts the page's own live poll every second with
the page's CSRF token and the rows it shows, following the poller each answer returns (as htmx swaps it in).
Cases are posted one at a time at a random moment of the poll's second; each is timed from the start of its
`POST /incidents` to the end of the first poll answer that holds its row. The browser's own work (htmx's swap, a
few milliseconds) is not in the figure; the HTTP hop of both calls is."""

from __future__ import annotations

import asyncio
import random
import re
import time
from contextlib import suppress
from html import unescape

import httpx

from bench.context import Bench
from bench.incidents import incident
from bench.processes import Api, api_client
from bench.report import Figure, progress, under
from bench.stats import Latencies
from console.queue import POLL_SECONDS

CASES = 8
# Above the policy's approval threshold and confirmed by no till record: the case waits for a supervisor, so it
# stays open (in the open queue) however fast the instant policy runs everything else; cancelled afterwards.
WAITS_FOR_APPROVAL = {"amount_minor": 90_000, "currency": "EUR"}
_POLLER = re.compile(r'hx-post="([^"]+)"')
_CSRF = re.compile(r'"csrf": "([^"]+)"')
_ROW = re.compile(r'data-case="([^"]+)"')


class OpenQueue:
    """The open queue as the browser holds it: the rows shown, the poller's address, and when each row came."""

    def __init__(self, http: httpx.AsyncClient, page: str) -> None:
        self.http = http
        self.csrf = _CSRF.search(page)[1]
        self.poller = unescape(_POLLER.search(page)[1])
        self.shown = _ROW.findall(page)
        self.seen: dict[str, float] = {}

    async def poll(self) -> None:
        answer = await self.http.post(self.poller, data={"csrf": self.csrf, "shown": ",".join(self.shown)},
                                      headers={"HX-Request": "true"})
        answer.raise_for_status()
        now = time.perf_counter()
        self.poller = unescape(_POLLER.search(answer.text)[1])
        for case_id in _ROW.findall(answer.text):
            if case_id not in self.seen:
                self.seen[case_id] = now
            if case_id not in self.shown:
                self.shown.insert(0, case_id)

    async def keep_polling(self) -> None:
        """Every POLL_SECONDS from the start of one poll to the start of the next, as `every 1s` triggers."""
        while True:
            began = time.perf_counter()
            await self.poll()
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - began)))


async def run(bench: Bench, api: Api, console: httpx.AsyncClient) -> Figure:
    queue = OpenQueue(console, (await console.get("/console/")).text)
    poller = asyncio.create_task(queue.keep_polling())
    seconds, posted = [], []
    chance = random.Random(14)
    try:
        async with api_client(api, bench.headers("till")) as http:
            for number in range(CASES):
                await asyncio.sleep(chance.uniform(0, POLL_SECONDS))
                began = time.perf_counter()
                answer = await http.post("/incidents", json={**incident(bench.tag("d-live"), number),
                                                             "amount": WAITS_FOR_APPROVAL})
                answer.raise_for_status()
                posted.append(case_id := answer.json()["case_id"])
                seconds.append(await _seen(queue, poller, case_id) - began)
            for case_id in posted:
                await http.post(f"/cases/{case_id}/cancel", json={"reason": "the bench measured it"})
    finally:
        poller.cancel()
        with suppress(asyncio.CancelledError):
            await poller
    shown = Latencies.of(seconds)
    progress(f"d. new case in an open queue: max {shown.max_ms / 1000:.2f} s, median {shown.p50_ms / 1000:.2f} s")
    return Figure("d", "console: new case in an open queue, slowest", shown.max_ms / 1000, "s", under(2),
                  f"{shown.count} cases posted one at a time to {bench.config.rows} cases, each from its POST "
                  f"/incidents to the first live poll holding its row (polled every {POLL_SECONDS} s as the page "
                  f"does); median {shown.p50_ms / 1000:.2f} s",
                  {"seconds": [round(each, 3) for each in seconds]})


async def _seen(queue: OpenQueue, poller: asyncio.Task, case_id: str, within: float = 30.0) -> float:
    deadline = time.perf_counter() + within
    while case_id not in queue.seen:
        if poller.done():
            poller.result()  # the poll failed: say why
        if time.perf_counter() > deadline:
            raise RuntimeError(f"case {case_id} did not show in the open queue within {within} s")
        await asyncio.sleep(0.01)
    return queue.seen[case_id]
