"""The read model's schema is kept by migrations: they build exactly the tables the code declares, on SQLite and
on PostgreSQL; a database made by release 95ea828 (before migrations) is adopted and upgraded, and today's
`make run` works its open case on; a schema the release does not know is refused with what to do."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from store.db import engine_for
from store.migrate import UnknownSchema, current_revision, head, upgrade_to_head
from tests.fixtures.release_95ea828.make_fixture import ARCHIVE, POLICY_ENV
from tests.test_dev_stack import free_ports, running_dev_stack


def differences(url: str) -> list:
    """What `alembic revision --autogenerate` would write: nothing, when migrations and tables agree."""
    with engine_for(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def release_95ea828_var(into: Path) -> dict[str, str]:
    """The var/ of a `make run` of release 95ea828 with one open S1 case (made by the script beside the archive)."""
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(into, filter="data")
    return json.loads((into / "case.json").read_text())


@pytest.mark.both_databases
def test_the_migrations_build_exactly_the_tables_the_code_declares(database_url: str):
    assert differences(database_url) == []
    with engine_for(database_url).connect() as connection:
        assert current_revision(connection) == head()


@pytest.mark.both_databases
def test_processes_starting_together_migrate_once_and_all_find_the_schema_at_head(database_url: str):
    failures: list[BaseException] = []

    def start_up() -> None:
        engine = create_engine(database_url)
        try:
            upgrade_to_head(engine)
        except BaseException as failure:  # noqa: BLE001  (reported by the assertion below)
            failures.append(failure)
        finally:
            engine.dispose()

    starters = [threading.Thread(target=start_up) for _ in range(4)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()

    assert failures == []
    assert differences(database_url) == []


def test_a_release_95ea828_database_is_adopted_and_upgraded_with_its_cases(tmp_path: Path):
    case = release_95ea828_var(tmp_path)
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    assert "alembic_version" not in inspect(create_engine(url)).get_table_names()

    assert differences(url) == []  # engine_for upgraded it
    with engine_for(url).connect() as connection:
        assert current_revision(connection) == head()
        status = connection.execute(text("SELECT status FROM cases WHERE id = :id"), {"id": case["case_id"]}).one()
    assert status == ("waiting_on_customer",)


def test_a_database_from_before_95ea828_gets_the_first_revisions_missing_index_when_adopted(tmp_path: Path):
    """Same columns, one index fewer (`ix_cases_status_kind_opened` came with 95ea828): stamped as it is, no
    revision would ever add it, and every migration-vs-code comparison would differ from then on."""
    release_95ea828_var(tmp_path)
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    with create_engine(url).begin() as connection:
        connection.execute(text("DROP INDEX ix_cases_status_kind_opened"))

    assert differences(url) == []  # engine_for adopted and upgraded it
    indexes = {index["name"] for index in inspect(create_engine(url)).get_indexes("cases")}
    assert "ix_cases_tenant_status_kind_opened" in indexes  # migration 0013's successor, which replaces it


def test_a_schema_newer_than_the_release_is_refused_saying_what_to_do(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    engine_for(url)
    with create_engine(url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine_for.cache_clear()

    with pytest.raises(UnknownSchema, match="at schema revision '9999', which this release does not know"):
        engine_for(url)


def test_make_run_refuses_a_schema_it_does_not_know_before_starting_anything(tmp_path: Path):
    var = tmp_path / "var"
    url = f"sqlite:///{var / 'recovery.db'}"
    engine_for(url)
    with create_engine(url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    temporal, ui, api = free_ports(3)
    env = {**os.environ, "DATABASE_URL": url, "TEMPORAL_DB_FILE": str(var / "temporal.db"),
           "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}", "TEMPORAL_UI_PORT": str(ui), "API_PORT": str(api)}

    refused = subprocess.run([sys.executable, "-m", "stack.dev"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)

    assert refused.returncode == 1
    assert "which this release does not know" in refused.stdout and "store.migrate downgrade" in refused.stdout
    assert not (var / "temporal.db").exists(), "no part was started"


def test_tables_from_before_95ea828_are_refused_not_guessed_at(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE cases (id VARCHAR(64) PRIMARY KEY, status VARCHAR(40))"))

    with pytest.raises(UnknownSchema, match="not those of release 95ea828") as refusal:
        engine_for(url)
    assert "cases: has ['id', 'status']" in str(refusal.value)
    assert "make migrate" in str(refusal.value)


async def test_make_run_upgrades_a_release_95ea828_var_and_its_open_case_shows_and_acts(tmp_path: Path):
    """Must-show 2: the var/ of the last release, under today's `make run`: the case the release left waiting for
    the customer's answer is shown (with its workflow's live state), takes the answer, and refunds once."""
    var = tmp_path / "var"
    case = release_95ea828_var(var)
    with running_dev_stack(tmp_path, var, **POLICY_ENV) as stack:
        headers = {"Authorization": f"Bearer {(var / 'dev-api-key').read_text().strip()}"}
        http = httpx.AsyncClient(base_url=stack.api, headers=headers, trust_env=False, timeout=30)
        async def shown_live() -> dict | None:
            """The worker may still be starting: the workflow answers its query once it polls."""
            detail = (await http.get(f"/cases/{case['case_id']}")).json()
            return detail if detail["live"] is not None else None

        shown = await eventually_async(shown_live)
        assert shown["status"] == "waiting_on_customer"
        assert "9.95" in shown["messages"][0]["body"]

        answered = await http.post(f"/cases/{case['case_id']}/replies", json={"channel": "sms", "text": "1"})
        assert answered.status_code < 300, answered.text

        async def refunds() -> list[dict]:
            return (await http.get(f"/cases/{case['case_id']}")).json()["refunds"]

        refunded = await eventually_async(refunds)
        assert [(refund["amount"]["amount_minor"], refund["amount"]["currency"]) for refund in refunded] == [
            (995, "EUR")]
    with engine_for(f"sqlite:///{var / 'recovery.db'}").connect() as connection:
        assert current_revision(connection) == head()


async def eventually_async(check, within: float = 60.0, interval: float = 0.3):
    deadline = asyncio.get_running_loop().time() + within
    while not (value := await check()):
        assert asyncio.get_running_loop().time() < deadline, f"not within {within} s"
        await asyncio.sleep(interval)
    return value
