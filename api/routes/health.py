"""Liveness and readiness, for load balancers and orchestrators. Neither needs a key, and neither blocks the event
loop: the database is asked on a thread, Temporal over the client's own async call, each with a deadline."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.client import Client

from api.deps import SettingsDep, TemporalDep
from settings import Settings
from store.db import session_for

router = APIRouter(tags=["health"])
CHECK_SECONDS = 2.0  # a dependency slower than this to say "yes" is as good as down for a load balancer
OK = "ok"
log = logging.getLogger(__name__)


class Readiness(BaseModel):
    status: str = Field(examples=["ready", "not ready"])
    database: str = Field(examples=[OK, "down: error (OperationalError)"])
    temporal: str = Field(examples=[OK, "down: no answer within 2 s"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Says nothing of its dependencies (that is `/readyz`), so an orchestrator
    does not restart a healthy API because Temporal is away."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A dependency is down; it is named."}})
async def readyz(response: Response, settings: SettingsDep, temporal: TemporalDep) -> Readiness:
    """Readiness: the database and Temporal both answer. 503 names the one that does not."""
    database, temporal_state = await asyncio.gather(_check("database", _database, settings),
                                                    _check("temporal", _temporal, temporal))
    ready = database == OK and temporal_state == OK
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not ready", database=database, temporal=temporal_state)


async def _check(name: str, probe, target) -> str:
    """"ok" or "down: <reason class>". The answer goes to anyone who asks, so it never carries the error's text
    (a driver's message names hosts, ports and users); the log has it."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await probe(target)
        return OK
    except TimeoutError:
        log.warning("readiness: %s gave no answer within %g s", name, CHECK_SECONDS)
        return f"down: no answer within {CHECK_SECONDS:g} s"
    except Exception as error:  # noqa: BLE001  (whatever the failure, the answer is "down, because ...")
        log.warning("readiness: %s is down: %s: %s", name, type(error).__name__, error)
        return f"down: error ({type(error).__name__})"


async def _database(settings: Settings) -> None:
    def select_one() -> None:
        with session_for(settings.database_url) as session:
            session.exec(text("SELECT 1"))

    await asyncio.to_thread(select_one)


async def _temporal(client: Client) -> None:
    if not await client.service_client.check_health(timeout=timedelta(seconds=CHECK_SECONDS)):
        raise ConnectionError("the health check answered 'not serving'")
