"""`python -m bench.bare_api`: the framework limit of intake, the second baseline of (a).

A bare FastAPI endpoint that validates `IncidentIn` and calls `start_workflow` with the input the raw-SDK
baseline sends: no API key, no database, no case row. It runs under uvicorn with the same number of processes
(`API_PROCESSES`) as our API, so the ratio to it is what our own code costs over the HTTP edge itself.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, status
from temporalio.common import WorkflowIDReusePolicy

from bench.incidents import case_input_for
from schemas.incidents import IncidentIn
from settings import get_settings
from temporal_client import connect
from workflows.registry import workflow_for


def create_app() -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.temporal = await connect(settings)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}  # the lifespan connected before the first request is served

    @app.post("/incidents", status_code=status.HTTP_201_CREATED)
    async def post_incident(incident: IncidentIn) -> dict[str, str]:
        case = case_input_for(incident, settings.policy)
        await app.state.temporal.start_workflow(
            workflow_for(incident.kind).run, case, id=case.case_id, task_queue=settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        return {"case_id": case.case_id}

    return app


if __name__ == "__main__":
    settings = get_settings()
    uvicorn.run("bench.bare_api:create_app", factory=True, workers=settings.api_processes,
                host=settings.api_host, port=settings.api_port, log_level="warning")
