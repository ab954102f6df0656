from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import IntegratorDep
from api.deps import SettingsDep, TemporalDep
from intake.cases import open_case
from schemas.cases import OpenedCase
from schemas.incidents import IncidentIn

router = APIRouter(tags=["intake"])


@router.post("/incidents", status_code=status.HTTP_201_CREATED, response_model=OpenedCase,
             responses={200: {"model": OpenedCase, "description": "This external_id already has a case."}})
async def post_incident(incident: IncidentIn, response: Response, settings: SettingsDep,
                        temporal: TemporalDep, integrator: IntegratorDep) -> OpenedCase:
    """Opens a recovery case and starts its workflow. Posting the same `external_id` again returns that case.
    If Temporal is unreachable: 503 with `Retry-After`; the case is kept and its workflow started without
    another post (posting again is still safe)."""
    opened = await open_case(temporal, settings, integrator.id, incident, integrator.tenant)
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    return opened
