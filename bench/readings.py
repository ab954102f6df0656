"""What the bench reads back from the engine's read model, and waiting until it shows something."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar

from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool

from store.db import session_for
from store.tables import CaseRow, MessageRow

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], within: float, what: str, interval: float = 0.25) -> T:
    """Polls until `check` returns something truthy; a phase that never gets there fails the bench loudly."""
    deadline = time.monotonic() + within
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:.0f} s (last reading {value!r})")
        await asyncio.sleep(interval)
    return value


async def first_contacts(database_url: str, case_ids: Iterable[str]) -> dict[str, datetime]:
    """When each case's first outbound message was recorded (the `messages` row the messaging activity writes)."""
    ids = list(case_ids)

    def read() -> dict[str, datetime]:
        with session_for(database_url) as session:
            query = (select(MessageRow.case_id, func.min(MessageRow.created_at))
                     .where(MessageRow.direction == "out", col(MessageRow.case_id).in_(ids))
                     .group_by(MessageRow.case_id))
            return dict(session.exec(query).all())

    return await run_in_threadpool(read)


async def outbound_count(database_url: str, case_id: str) -> int:
    def read() -> int:
        with session_for(database_url) as session:
            return session.exec(select(func.count()).select_from(MessageRow)
                                .where(MessageRow.case_id == case_id, MessageRow.direction == "out")).one()

    return await run_in_threadpool(read)


async def cases_in_status(database_url: str, integrator: str, status: str) -> int:
    def read() -> int:
        with session_for(database_url) as session:
            return session.exec(select(func.count()).select_from(CaseRow)
                                .where(CaseRow.integrator == integrator, CaseRow.status == status)).one()

    return await run_in_threadpool(read)
