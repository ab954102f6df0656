"""What a database from before tenants (migration 0007) holds keeps working after the upgrade: its cases keep the
ids their workflows run under, its webhook endpoints keep hearing their cases, its erasures really purge."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlmodel import select
from temporalio.service import RPCError

from intake.cases import case_id_for, reference_for
from schemas.auth import DEFAULT_TENANT, Principal, PrincipalKind, Scope
from schemas.incidents import IncidentIn
from store import cases as case_store
from store.accounts import active_account
from store.db import engine_for, session_for
from store.erasure import purge_freed_space
from store.migrate import alembic_config
from store.tables import CaseRow, StaffAccountRow, WebhookEndpointRow, WebhookEventRow
from store.webhook_endpoints import endpoints_of
from tests.harness import TENANT, Stack, eventually
from tests.test_intake import incident
from tests.test_migrations import release_95ea828_var


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


def test_webhook_endpoints_and_events_from_before_tenants_keep_hearing_their_integrators_cases(tmp_path: Path):
    """Review major 2: before tenants an endpoint's and an event's `tenant` named the integrator (a staff tool's
    endpoint: none). After migration 0007 they are of the integrator's tenant and name the integrator, so the
    relay still hands the integrator's events to its endpoint, and the integrator can still manage it."""
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    with create_engine(url).begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
        for statement in BEFORE_TENANTS:
            connection.execute(text(statement))

    with session_for(url) as session:  # engine_for migrates to head
        endpoints = {row.id: row for row in session.exec(select(WebhookEndpointRow)).all()}
        [event] = session.exec(select(WebhookEventRow)).all()
    assert {(row.id, row.tenant, row.integrator) for row in endpoints.values()} == {
        ("ep_till", DEFAULT_TENANT, "till"), ("ep_tool", DEFAULT_TENANT, None)}
    assert (event.tenant, event.integrator) == (DEFAULT_TENANT, "till")
    assert endpoints["ep_till"].hears(event) and endpoints["ep_tool"].hears(event)
    till = Principal(id="till", kind=PrincipalKind.integrator, tenant=DEFAULT_TENANT, scopes=frozenset())
    with session_for(url) as session:
        assert [row.id for row in endpoints_of(session, till.tenant, till.id)] == ["ep_till"]


BEFORE_TENANTS = [
    "INSERT INTO api_keys (key_id, secret_hash, principal, kind, scopes, created_at) VALUES ('k1', 'x', 'till', "
    "'integrator', '[\"incidents:write\"]', '2026-11-01 10:00:00')",
    "INSERT INTO cases (id, reference, integrator, external_id, kind, source, status, step, priority, customer_name, "
    "opened_at, updated_at) VALUES ('case-1', 'C1', 'till', 'T-1', 'overcharge', 'till', 'open', 'contact', "
    "'normal', 'Maija', '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    "INSERT INTO webhook_endpoints (id, tenant, url, event_types, description, secret, created_by, created_at) "
    "VALUES ('ep_till', 'till', 'https://hooks.example.com/till', '[\"case.opened\"]', '', 'whsec_x', 'till', "
    "'2026-11-01 10:00:00')",
    "INSERT INTO webhook_endpoints (id, tenant, url, event_types, description, secret, created_by, created_at) "
    "VALUES ('ep_tool', NULL, 'https://hooks.example.com/tool', '[\"case.opened\"]', '', 'whsec_y', 'admin', "
    "'2026-11-01 10:00:00')",
    "INSERT INTO webhook_events (id, event_key, case_id, tenant, type, sequence, payload, created_at) VALUES "
    "('msg_1', 'case-1:opened', 'case-1', 'till', 'case.opened', 1, '{}', '2026-11-01 10:00:00')",
]


def test_a_database_file_from_before_incremental_vacuum_is_purged_for_real(tmp_path: Path):
    """Review major 4: `auto_vacuum` incremental applies only to files created so; release 95ea828's file has
    none, and incremental steps free nothing there. The purge converts it with one full VACUUM: no free page and
    no erased byte is left, and it reports done only then; the next purge runs in short steps."""
    release_95ea828_var(tmp_path)
    path = tmp_path / "recovery.db"
    engine = engine_for(f"sqlite:///{path}")  # upgraded to head
    secret = "Kalle Kimmonen kalle.kimmonen@example.fi"
    with engine.begin() as connection:
        assert connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 0
        connection.exec_driver_sql("PRAGMA secure_delete=OFF")  # the old values stay in the freed pages
        connection.execute(text("INSERT INTO sandbox_outbox (idempotency_key, channel, to_address, body, created_at) "
                                "VALUES (:key, 'email', :to, :body, '2026-11-30 10:00:00')"),
                           [{"key": f"k{n}", "to": "kalle.kimmonen@example.fi", "body": f"{secret} {n}"}
                            for n in range(2000)])
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA secure_delete=OFF")
        connection.exec_driver_sql("DELETE FROM sandbox_outbox WHERE idempotency_key LIKE 'k%'")
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() > 0

    assert purge_freed_space(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0
        assert connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2, "incremental from now on"
    assert secret.encode() not in path.read_bytes()


@pytest.mark.both_databases
def test_an_account_migrated_from_a_key_with_capitals_can_be_named_as_owner(database_url: str):
    """Review minor 16: migration 0007 gives each person's key of before an account of its principal's name, as it
    was written ('Aino.Virtanen'); naming it as an owner, in any case, finds it."""
    with session_for(database_url) as session:
        session.add(StaffAccountRow(id="Aino.Virtanen", tenant=DEFAULT_TENANT, display_name="Aino.Virtanen",
                                    email="Aino.Virtanen@migrated.invalid", roles=["agent"]))
        session.commit()
        found = [active_account(session, DEFAULT_TENANT, named) for named in ("Aino.Virtanen", "aino.virtanen")]
    assert [account.id if account else None for account in found] == ["Aino.Virtanen", "Aino.Virtanen"]
