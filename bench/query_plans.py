"""Where a supervisor query spends its time, read in-process: each SQL statement the store runs for it, with
its duration and SQLite's query plan, and the workflow query that `GET /cases/{id}` adds. The store's own
functions are called, so the statements are exactly the API's, not a copy of them."""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text
from temporalio.client import Client

from bench.context import Bench
from bench.incidents import TENANT
from schemas.cases import LiveState
from store import cases as case_store
from store import refunds as refund_ledger
from store.db import engine_for, session_for
from store.tables import CaseRow

REPEATS = 5


@contextmanager
def statements(database_url: str) -> Iterator[list[dict[str, Any]]]:
    """Every statement run inside the block: its SQL, parameters and seconds."""
    engine, seen = engine_for(database_url), []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_began"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append({"sql": statement, "parameters": parameters,
                     "seconds": time.perf_counter() - conn.info.pop("bench_began")})

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def profile(database_url: str, action: Callable[[Any], object]) -> list[dict[str, Any]]:
    """Runs `action(session)` REPEATS times; per statement: median ms, the SQL's first line, and its plan."""
    runs = []
    for _ in range(REPEATS):
        with statements(database_url) as seen, session_for(database_url) as session:
            action(session)
        runs.append(seen)
    return [{"sql": " ".join(first["sql"].split())[:160],
             "median_ms": round(statistics.median(run[index]["seconds"] for run in runs) * 1000, 2),
             "plan": plan(database_url, first["sql"], first["parameters"])}
            for index, first in enumerate(runs[-1])]


def plan(database_url: str, sql: str, parameters: Any) -> list[str]:
    with engine_for(database_url).connect() as connection:
        cursor = connection.connection.cursor()
        rows = cursor.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()
        cursor.close()
    return [row[-1] for row in rows]


def lister(filters: dict[str, Any]) -> Callable[[Any], object]:
    """The API's `GET /cases` call into the store, for a supervisor (who sees every case of the tenant).
    Filters the store requires but the bench does not set are passed as None, so a new filter does not break us;
    the others keep their defaults, as the API leaves them (a None `counted` would drop the count, the cost)."""
    arguments = {name: None for name, parameter in inspect.signature(case_store.list_cases).parameters.items()
                 if name != "session" and parameter.default is inspect.Parameter.empty}
    arguments.update({name: value for name, value in filters.items() if not name.startswith("opened_")},
                     tenant=TENANT, limit=50, offset=filters.get("offset", 0))
    arguments.update({name: datetime.fromisoformat(value) for name, value in filters.items()
                      if name.startswith("opened_")})
    return lambda session: case_store.list_cases(session, **arguments)


def detail_reads(case_id: str) -> Callable[[Any], object]:
    """The database half of `GET /cases/{id}`."""
    def read(session) -> None:
        session.get(CaseRow, case_id)
        case_store.messages_of(session, case_id)
        refund_ledger.refunds_of(session, case_id)

    return read


async def live_query_ms(client: Client, case_id: str) -> float:
    """Median time of the `state` query the API asks, with its 2 s limit; a failure counts as it ends."""
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        try:
            await client.get_workflow_handle(case_id).query("state", result_type=LiveState,
                                                            rpc_timeout=timedelta(seconds=2))
        except Exception:  # noqa: BLE001  (the API swallows these too; only the time matters here)
            pass
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 2)


async def diagnose(bench: Bench, filters: dict[str, dict[str, Any]], synthetic_id: str,
                   real_id: str) -> dict[str, Any]:
    url = bench.database_url
    with engine_for(url).connect() as connection:
        indexes = [row[0] for row in connection.execute(text("SELECT sql FROM sqlite_master WHERE type='index' "
                                                             "AND tbl_name='cases' AND sql IS NOT NULL"))]
    return {
        "list": {name: profile(url, lister(query)) for name, query in filters.items()},
        "detail_database": profile(url, detail_reads(synthetic_id)),
        "live_query_ms": {"no_workflow": await live_query_ms(bench.client, synthetic_id),
                          "closed_workflow": await live_query_ms(bench.client, real_id)},
        "indexes_on_cases": indexes,
    }
