from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import SessionDep, TemporalDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(session: SessionDep, temporal: TemporalDep) -> dict[str, str]:
    """Liveness of the API and reachability of its two dependencies."""
    session.exec(text("SELECT 1"))
    await temporal.service_client.check_health()
    return {"status": "ok", "database": "ok", "temporal": "ok"}
