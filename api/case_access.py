"""Which principal may see which case: only cases of its own tenant; an integrator only the cases it opened."""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.concurrency import run_in_threadpool

from schemas.auth import Principal
from settings import Settings
from store.db import session_for
from store.tables import CaseRow


def may_see(row: CaseRow, principal: Principal) -> bool:
    if row.tenant != principal.tenant:
        return False
    return not principal.sees_only_own_cases or row.integrator == principal.id


def only_from(principal: Principal) -> str | None:
    """The integrator whose cases alone a listing may show: the caller itself if it is one, else None (a person
    sees the tenant's cases)."""
    return principal.id if principal.sees_only_own_cases else None


def visible_case(row: CaseRow | None, case_id: str, principal: Principal) -> CaseRow:
    """Others' cases are as if they did not exist (404, not 403: an id reveals nothing)."""
    if row is None or not may_see(row, principal):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return row


async def load_visible_case(settings: Settings, case_id: str, principal: Principal) -> CaseRow:
    def load() -> CaseRow:
        with session_for(settings.database_url) as session:
            return visible_case(session.get(CaseRow, case_id), case_id, principal)

    return await run_in_threadpool(load)
