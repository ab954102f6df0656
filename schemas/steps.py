"""Activity names and the inputs of the case-store steps. Workflows call activities by these names,
so no workflow module imports an activity module (and with it a database driver)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.incidents import IncidentIn
from schemas.progress import CaseOutcome, CaseProgress


class ActivityName(StrEnum):
    verify_incident = "verify_incident"
    send_message = "send_message"
    refund = "refund"
    close_case = "close_case"


class VerifyRequest(BaseModel):
    incident: IncidentIn
    progress: CaseProgress


class CloseRequest(BaseModel):
    outcome: CaseOutcome
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    progress: CaseProgress
