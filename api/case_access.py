"""Which principal may see which case: only cases of its own tenant; an integrator only the cases it opened."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.errors import invalid_field
from schemas.auth import Principal
from settings import Settings
from store.cases import cases_with_reference
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


def named_case(session: Session, named: str, principal: Principal, field: str = "case") -> CaseRow:
    """The case a person names by its id or by the reference the customer quotes ("3F9A1C07"), among the cases
    `principal` may see (else 404). A reference that names several (eight hex digits can collide) is a 422 asking
    for the id: never a guess."""
    row = session.get(CaseRow, named)
    if row is not None and may_see(row, principal):
        return row
    found = [row for row in cases_with_reference(session, principal.tenant, named) if may_see(row, principal)]
    if len(found) > 1:
        raise invalid_field("body", field, "ambiguous_reference",
                            f"the reference {named} names {len(found)} cases: give the case id")
    return visible_case(found[0] if found else None, named, principal)
