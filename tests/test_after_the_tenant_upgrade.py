"""What a database from before tenants (migration 0007) holds keeps working after the upgrade: its cases keep the
ids their workflows run under, its webhook endpoints keep hearing their cases, its erasures really purge."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from temporalio.service import RPCError

from intake.cases import case_id_for, reference_for
from schemas.auth import PrincipalKind, Scope
from schemas.incidents import IncidentIn
from store import cases as case_store
from store.db import session_for
from store.tables import CaseRow
from tests.harness import TENANT, Stack, eventually
from tests.test_intake import incident


def id_before_tenants(integrator: str, external_id: str) -> str:
    """The case id release 95ea828 and every release before tenants derived (no tenant in it)."""
    digest = hashlib.sha256(f"{integrator}\x00{external_id}".encode()).hexdigest()
    return f"case-{digest[:24]}"


async def test_a_case_from_before_tenants_posted_again_keeps_its_id_and_its_one_workflow(live_stack: Stack):
    """Review blocker 1: a retry (after a 503, say) of an incident opened before the upgrade answers with the
    case's stored id, and starts no second workflow under the id today's formula would give."""
    till = live_stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    body = incident("pos-77-0100")
    old_id = id_before_tenants("till", body["external_id"])
    with session_for(live_stack.settings.database_url) as session:  # as migration 0007 leaves such a case
        case_store.open_case(session, old_id, reference_for(old_id), TENANT, "till", IncidentIn.model_validate(body),
                             datetime.now(UTC), None)

    again = await live_stack.api.post("/incidents", json=body, headers=till)

    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == old_id
    assert (await live_stack.api.get(f"/cases/{old_id}", headers=till)).status_code == 200
    await eventually(lambda: live_stack.env.client.get_workflow_handle(old_id).describe())
    with pytest.raises(RPCError, match="not found"):
        await live_stack.env.client.get_workflow_handle(case_id_for(TENANT, "till", body["external_id"])).describe()
    assert [row.id for row in live_stack.rows(CaseRow)] == [old_id]
