from __future__ import annotations

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from api.auth import IntegratorDep
from api.deps import SettingsDep, TemporalDep
from api.errors import invalid_field
from intake.cases import UnknownOwner, open_case
from intake.major_incidents import RESERVED_EXTERNAL_IDS, reserved_external_id
from schemas.auth import Principal
from schemas.cases import OpenedCase
from schemas.incidents import IncidentIn
from settings import Settings
from store.cases import existing_case
from store.db import session_for

router = APIRouter(tags=["intake"])


@router.post("/incidents", status_code=status.HTTP_201_CREATED, response_model=OpenedCase,
             responses={200: {"model": OpenedCase, "description": "This external_id already has a case."}})
async def post_incident(incident: IncidentIn, response: Response, settings: SettingsDep,
                        temporal: TemporalDep, integrator: IntegratorDep) -> OpenedCase:
    """Opens a recovery case and starts its workflow. Posting the same `external_id` again returns that case.
    A suggested `owner` must be one of the tenant's staff accounts (422 otherwise); an `external_id` starting
    `major-` is the engine's (422). If Temporal is unreachable:
    503 with `Retry-After`; the case is kept and its workflow started without another post (posting again is
    still safe)."""
    if reserved_external_id(incident.external_id) and not await run_in_threadpool(
            _has_case, settings, integrator, incident.external_id):  # a retry of a case it has stays 200
        raise invalid_field("body", "external_id", "reserved",
                            f"external ids starting '{RESERVED_EXTERNAL_IDS}' are the engine's (major incidents' "
                            "child cases)")
    try:
        opened = await open_case(temporal, settings, integrator, incident)
    except UnknownOwner as unknown:
        raise invalid_field("body", "owner", "unknown_account", str(unknown)) from None
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    return opened


def _has_case(settings: Settings, integrator: Principal, external_id: str) -> bool:
    with session_for(settings.database_url) as session:
        return existing_case(session, integrator.tenant, integrator.id, external_id) is not None
