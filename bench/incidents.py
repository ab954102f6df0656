"""The incident every speed phase reports: S1, a till overcharge of 9.95 EUR, with the customer's phone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intake.cases import case_id_for, reference_for
from schemas.auth import Principal, PrincipalKind, Scope
from schemas.cases import CaseInput
from schemas.incidents import IncidentIn
from schemas.policy import RecoveryPolicy

INTEGRATOR = "bench-till"
TENANT = "bench"


def bench_system(name: str) -> Principal:
    """An integrator of the bench's tenant, as the API would see its key."""
    return Principal(id=name, kind=PrincipalKind.integrator, tenant=TENANT, scopes=frozenset({Scope.incidents_write}))


def incident(run: str, number: int) -> dict[str, Any]:
    """`run` keeps external ids (and so case ids) apart between phases and between bench runs on one server."""
    return {
        "external_id": f"bench-{run}-{number:06d}", "kind": "overcharge", "source": "till",
        "customer": {"name": "Maija Meikäläinen", "phone": f"+35840{number % 10_000_000:07d}", "language": "en"},
        "amount": {"amount_minor": 995, "currency": "EUR"}, "store": "Prisma Kaleva",
        "transaction_ref": f"T-{run}-{number}",
    }


def case_input(run: str, number: int, policy: RecoveryPolicy) -> CaseInput:
    """What the API would hand the workflow for the same incident: the raw-SDK baseline sends exactly this."""
    return case_input_for(IncidentIn.model_validate(incident(run, number)), policy)


def case_input_for(reported: IncidentIn, policy: RecoveryPolicy) -> CaseInput:
    case_id = case_id_for(TENANT, INTEGRATOR, reported.external_id)
    return CaseInput(case_id=case_id, reference=reference_for(case_id), incident=reported, policy=policy,
                     opened_at=datetime.now(UTC), owner=policy.triage_owner)
