"""Major incidents (S7): declare one failure that hit many customers, approve it once, steer its fan-out, close it.

Each route acts on its own tenant's incidents only (another tenant's id is 404, as for cases). Declaring is for
the integrator whose records show the sales, or a supervisor; everything that moves money or customers is a
supervisor's. The parent workflow (`workflows/major_incident.py`) does the work; these routes signal it."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import IntegratorOrSupervisorDep, ReaderDep, SupervisorDep
from api.deps import SettingsDep, TemporalDep
from intake.major_incidents import approve as approve_parent
from intake.major_incidents import declare, workflow_id
from schemas.auth import Principal
from schemas.incidents import IncidentKind
from schemas.major_incidents import (
    Approval,
    ChildMessage,
    MajorIncidentIn,
    MajorIncidentView,
    MajorStatus,
    Steering,
    StopChildren,
)
from schemas.money import Money
from settings import Settings
from store import major_incidents as majors
from store.db import session_for
from store.tables import MajorIncidentRow

DECLARE_PATH = "/major-incidents"
router = APIRouter(prefix=DECLARE_PATH, tags=["major incidents"])
_ENDED = (MajorStatus.closed, MajorStatus.cancelled)


class ApprovalIn(BaseModel):
    cap: Money = Field(description="The most any one child case may pay; customers owed more are held for a person.")


class StopIn(BaseModel):
    reason: str = Field(min_length=3, max_length=300, description="Shown on every stopped child's timeline.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MajorIncidentView,
             responses={200: {"model": MajorIncidentView, "description": "The same declaration was posted before."},
                        503: {"description": "Recorded, but Temporal did not take its workflow: post it again."}})
async def declare_major_incident(declared: MajorIncidentIn, response: Response, settings: SettingsDep,
                                 temporal: TemporalDep, declarer: IntegratorOrSupervisorDep) -> MajorIncidentView:
    """Finds the affected customers (in the tenant's till records, or in the list given, whose refused rows are
    reported) and starts the parent. Nobody is contacted until a supervisor other than the declarer approves.
    The same declaration posted again is the same incident (200)."""
    major_id, created = await declare(temporal, settings, declarer, declared)
    if not created:
        response.status_code = status.HTTP_200_OK
    return await run_in_threadpool(_view, settings, declarer, major_id)


@router.get("/{major_id}", response_model=MajorIncidentView)
async def get_major_incident(major_id: str, settings: SettingsDep, reader: ReaderDep) -> MajorIncidentView:
    """The incident with its progress: affected, opened, linked (already in a case), held (over the cap),
    contacted, reached, refunded, closed, failed, withdrawn (never contacted: the parent ended first)."""
    return await run_in_threadpool(_view, settings, reader, major_id)


@router.post("/{major_id}/approvals", status_code=status.HTTP_202_ACCEPTED, response_model=MajorIncidentView)
async def approve(major_id: str, approval: ApprovalIn, settings: SettingsDep, temporal: TemporalDep,
                  supervisor: SupervisorDep) -> MajorIncidentView:
    """Once for the whole incident, before any child is opened; four eyes: not by whoever declared it (409). Of two
    approvals at once, one is taken and the other is 409. A parent whose start failed at declaration is started
    now (503 if Temporal still does not take it; the incident may then be approved again)."""
    row = await _incident(settings, supervisor, major_id)
    if row.declared_by == supervisor.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "four eyes: the incident is approved by someone other than "
                                                      "who declared it")
    given = Approval(approved_by=supervisor.id, cap=approval.cap)
    if row.status != MajorStatus.awaiting_approval or not await run_in_threadpool(_claim, settings, major_id, given):
        raise HTTPException(status.HTTP_409_CONFLICT, "the incident is not waiting for approval (approved "
                                                      f"already, or {row.status})")
    try:
        await approve_parent(temporal, settings, row, given)
    except BaseException:  # Temporal refused, was away, or the request was cancelled: not approved, it may be again
        await asyncio.shield(run_in_threadpool(_unclaim, settings, major_id, given))
        raise
    return await run_in_threadpool(_view, settings, supervisor, major_id)


def _claim(settings: Settings, major_id: str, approval: Approval) -> bool:
    with session_for(settings.database_url) as session:
        return majors.claim_approval(session, major_id, approval)


def _unclaim(settings: Settings, major_id: str, approval: Approval) -> None:
    with session_for(settings.database_url) as session:
        majors.release_approval(session, major_id, approval)


@router.post("/{major_id}/pause", status_code=status.HTTP_202_ACCEPTED)
async def pause(major_id: str, settings: SettingsDep, temporal: TemporalDep,
                supervisor: SupervisorDep) -> dict[str, str]:
    """No new child is opened after the step in flight (a step lasts well under a second)."""
    return await _steer(settings, temporal, supervisor, major_id, Steering.pause)


@router.post("/{major_id}/resume", status_code=status.HTTP_202_ACCEPTED)
async def resume(major_id: str, settings: SettingsDep, temporal: TemporalDep,
                 supervisor: SupervisorDep) -> dict[str, str]:
    """The fan-out goes on from the first customer not yet opened."""
    return await _steer(settings, temporal, supervisor, major_id, Steering.resume)


async def _steer(settings: Settings, temporal: Client, supervisor: Principal, major_id: str,
                 steering: Steering) -> dict[str, str]:
    row = await _incident(settings, supervisor, major_id)
    _not_ended(row)
    await _signal(temporal, major_id, "steer", steering)
    return {"major_id": major_id, "steering": steering}


@router.post("/{major_id}/messages", status_code=status.HTTP_202_ACCEPTED)
async def message_children(major_id: str, message: ChildMessage, settings: SettingsDep, temporal: TemporalDep,
                           supervisor: SupervisorDep) -> dict[str, str]:
    """A message to every open child, filled in per case (`{name}`, `{amount}`, `{reference}`), each checked as
    personal like any agent's reply (a case it is not personal for is skipped). It is each child's personal reply,
    which a complaint-style recovery waits for; the money kinds' workflows send no message outside their steps
    yet, so for them this is 409 rather than a message silently never sent."""
    row = await _incident(settings, supervisor, major_id)
    _not_ended(row)
    if row.recovery != IncidentKind.complaint:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a message to all children is sent as their personal reply, "
                                                      f"which only complaint recoveries send; these are {row.recovery}")
    await _signal(temporal, major_id, "message", message.model_copy(update={"sent_by": supervisor.id}))
    return {"major_id": major_id, "status": "sending"}


@router.post("/{major_id}/close", status_code=status.HTTP_202_ACCEPTED)
async def close(major_id: str, stop: StopIn, settings: SettingsDep, temporal: TemporalDep,
                supervisor: SupervisorDep) -> dict[str, str]:
    """Ends the fan-out; children that have not reached their customer are closed, the rest go on (reported)."""
    return await _stop(settings, temporal, supervisor, major_id, "close", stop.reason)


@router.post("/{major_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel(major_id: str, stop: StopIn, settings: SettingsDep, temporal: TemporalDep,
                 supervisor: SupervisorDep) -> dict[str, str]:
    """Withdraws the incident: no customer not yet contacted is, and every open child stops before paying (a
    refund already in flight finishes and is recorded)."""
    return await _stop(settings, temporal, supervisor, major_id, "cancel", stop.reason)


async def _stop(settings: Settings, temporal: Client, supervisor: Principal, major_id: str,
                kind: Literal["close", "cancel"], reason: str) -> dict[str, str]:
    row = await _incident(settings, supervisor, major_id)
    _not_ended(row)
    await run_in_threadpool(_request_stop, settings, major_id)  # a step or message in flight stops at its next slot
    await _signal(temporal, major_id, "stop",
                  StopChildren(major_id=major_id, kind=kind, reason=reason, requested_by=supervisor.id))
    return {"major_id": major_id, "status": "closing" if kind == "close" else "cancelling"}


def _request_stop(settings: Settings, major_id: str) -> None:
    with session_for(settings.database_url) as session:
        majors.request_stop(session, major_id)


def _view(settings: Settings, principal: Principal, major_id: str) -> MajorIncidentView:
    with session_for(settings.database_url) as session:
        row = _visible(session, principal, major_id)
        progress, last_reached = majors.progress_of(session, major_id)
    cap = Money(amount_minor=row.cap_minor, currency=row.currency) if row.cap_minor is not None else None
    return MajorIncidentView(id=row.id, title=row.title, recovery=row.recovery, status=row.status,
                             declared_by=row.declared_by, declared_at=row.declared_at, approved_by=row.approved_by,
                             cap=cap, progress=progress, rejected=row.rejected, last_reached_at=last_reached)


async def _incident(settings: Settings, principal: Principal, major_id: str) -> MajorIncidentRow:
    def load() -> MajorIncidentRow:
        with session_for(settings.database_url) as session:
            return _visible(session, principal, major_id)

    return await run_in_threadpool(load)


def _visible(session, principal: Principal, major_id: str) -> MajorIncidentRow:
    """The tenant's incident; for an integrator, only one it declared (as it sees only the cases it opened)."""
    row = majors.visible_incident(session, principal.tenant, major_id)
    if row is None or (principal.sees_only_own_cases and row.declared_by != principal.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no major incident {major_id}")
    return row


def _not_ended(row: MajorIncidentRow) -> None:
    if row.status in _ENDED:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the incident has ended ({row.status})")


async def _signal(temporal: Client, major_id: str, name: str, payload) -> None:
    try:
        await temporal.get_workflow_handle(workflow_id(major_id)).signal(name, payload)
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the incident's workflow no longer runs ({error.message})") \
            from error
