"""The FastAPI application: routers, limits, and the connections it holds for its lifetime."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

import console
from api.auth import VerifiedKeys
from api.deps import each_query_parameter_once
from api.errors import GUARDED, ONE_CASE, ONE_MAJOR_INCIDENT, OPENS_CASES
from api.limits import BodyLimit, RateLimiter
from api.routes import (
    accounts,
    case_actions,
    cases,
    codec,
    directory,
    health,
    inbound,
    incidents,
    major_incidents,
    metrics,
    previews,
    privacy,
    transactions,
    webhook_endpoints,
)
from intake.cases import WorkflowNotStarted
from providers.messaging.mail import email_sender
from schemas.phones import at_the_edge, default_region
from settings import Settings, get_settings
from store.db import engine_for
from store.erasure import purge_pending
from temporal_client import connect, payload_codec

MAX_BODY_BYTES = 256 * 1024  # far below Temporal's payload limits; incidents are small


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine_for(settings.database_url)
        if getattr(app.state, "temporal", None) is None:
            settings.require_payload_keys()  # a process of its own: never one that would send data in clear
            # lazy: the API starts (and /readyz says why it is not ready) while Temporal is away
            app.state.temporal = await connect(settings, lazy=True)
        # An erasure answered just before a restart may not have been purged from the files yet.
        purging = asyncio.create_task(run_in_threadpool(purge_pending, engine_for(settings.database_url)))
        yield
        await purging

    app = FastAPI(title="Service-recovery engine", version="0.1.0", lifespan=lifespan,
                  dependencies=[Depends(each_query_parameter_once)],
                  description="Report a failure; the engine contacts the customer, refunds once, and follows up.")
    app.state.settings = settings
    app.state.verified_keys = VerifiedKeys(settings.api_key_cache_seconds)
    app.state.temporal = temporal
    app.state.codec = payload_codec(settings)
    app.state.codec_ui_origins = settings.temporal_ui_origins
    app.state.staff_email = email_sender(settings)  # notices to the data protection officer (privacy routes)
    if temporal is not None:
        engine_for(settings.database_url)

    app.state.rate_limiter = RateLimiter(settings.api_rate_per_second, settings.api_rate_burst)
    app.state.failed_auth_limiter = RateLimiter(settings.api_failed_auth_per_second, settings.api_failed_auth_burst)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES,
                       paths={directory.IMPORT_PATH: settings.directory_import_max_bytes,
                              # an uploaded list of affected customers is an import too
                              major_incidents.DECLARE_PATH: settings.directory_import_max_bytes})

    @app.exception_handler(WorkflowNotStarted)
    async def workflow_not_started(request: Request, error: WorkflowNotStarted) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(error)},
                            headers={"Retry-After": str(settings.intake_retry_after_seconds)})

    app.add_middleware(PhoneRegion, region=settings.policy.phone_region)
    routers = (incidents, transactions, cases, case_actions, previews, privacy, inbound, codec, metrics,
               webhook_endpoints, accounts, directory, major_incidents)
    about_one_case = (cases, case_actions, previews, privacy)
    opening_cases = (incidents, transactions, major_incidents)
    app.include_router(health.router)
    for module in routers:
        app.include_router(module.router, responses={**GUARDED, **(ONE_CASE if module in about_one_case else {}),
                                                     **(ONE_MAJOR_INCIDENT if module is major_incidents else {}),
                                                     **(OPENS_CASES if module in opening_cases else {})})
    console.install(app)  # the pages people work in: a view over the routes above
    return app


class PhoneRegion:
    """Numbers posted without a country code are read in the policy's region (plain ASGI: no cost per request
    beyond setting a context variable that request validation reads)."""

    def __init__(self, app, region: str) -> None:
        self.app, self.region = app, region

    async def __call__(self, scope, receive, send) -> None:
        token, edge = default_region.set(self.region), at_the_edge.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            at_the_edge.reset(edge)
            default_region.reset(token)
