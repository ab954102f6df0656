"""The customer directory as an administrator fills it: bulk imports (CSV, JSON) that upsert by the company's own
key and report every row they refuse, single records, masked listings, bad files refused with a 4xx naming the
problem, size limits, and two tenants that never see each other's customers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from schemas.auth import PrincipalKind, Scope
from schemas.directory import CrmDirectory
from settings import Settings
from store.tables import CustomerDirectoryRow
from tests.harness import Stack

pytestmark = pytest.mark.both_databases  # upserts and the unique key, on SQLite and PostgreSQL alike

CSV = {"Content-Type": "text/csv"}


@pytest.fixture
async def api(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    """The API alone: nothing here runs a case."""
    settings = settings.model_copy(update={"directory_import_max_rows": 8})
    async with Stack.running(dev_server, settings, with_worker=False) as stack:
        yield stack


def admin(stack: Stack, tenant: str = "acme") -> dict[str, str]:
    return stack.key(f"directory.admin.{tenant}", Scope.admin, tenant=tenant)


def rows(stack: Stack, tenant: str = "acme") -> dict[str, CustomerDirectoryRow]:
    return {row.customer_key: row for row in stack.rows(CustomerDirectoryRow, tenant=tenant)}


async def test_a_csv_import_writes_the_valid_rows_and_reports_each_bad_one(api: Stack):
    csv = ("customer_key;name;phone;email;city\n"  # a Finnish spreadsheet's semicolons
           "C-1;Jukka Lahtinen;040 123 4567;jukka@example.fi;Tampere\n"
           "C-2;Maija Meikäläinen;123;;Oulu\n"
           "C-3;;+358501112233;;\n"
           "C-4;Aino Virtanen;;aino@@example;\n"
           "C-1;Jukka Again;040 765 4321;;\n"
           "C-5;Liisa Korhonen;050 111 2222;;Turku;extra\n")
    answer = await api.api.post("/directory/import", content=csv.encode(), headers={**admin(api), **CSV})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["policy"], report["received"], report["created"], report["updated"]) == (
        "accept-valid-report-rejected", 6, 1, 0)
    rejected = {(row["row"], row["field"]): row["reason"] for row in report["rejected"]}
    assert set(rejected) == {(2, "phone"), (3, "name"), (4, "email"), (5, "customer_key"), (6, "row")}
    assert "too short" in rejected[(2, "phone")]
    assert "same customer_key as row 1" in rejected[(5, "customer_key")]
    assert "6 fields, the header 5" in rejected[(6, "row")]
    [stored] = rows(api).values()
    assert (stored.customer_key, stored.phone, stored.name_key) == ("C-1", "+358401234567", "jukka lahtinen")


async def test_a_json_import_upserts_by_the_companys_own_key(api: Stack):
    headers = admin(api)
    first = [{"customer_key": "C-1", "name": "Jukka Lahtinen", "phone": "040 123 4567"},
             {"customer_key": "C-2", "name": "Maija Meikäläinen", "email": "maija@example.fi", "city": "Oulu"}]
    report = (await api.api.post("/directory/import", json=first, headers=headers)).json()
    assert (report["created"], report["updated"], report["rejected"]) == (2, 0, [])

    moved = [{"customer_key": "C-2", "name": "Maija Meikäläinen", "phone": "+358 50 999 8877", "city": "Turku"},
             {"customer_key": "C-3", "name": "Nobody Reachable"}, "not a record"]
    report = (await api.api.post("/directory/import", json=moved, headers=headers)).json()
    assert (report["created"], report["updated"]) == (0, 1)
    assert [(row["row"], row["field"]) for row in report["rejected"]] == [(2, "row"), (3, "row")]
    assert "a phone or an email is needed" in report["rejected"][0]["reason"]
    maija = rows(api)["C-2"]
    assert (maija.phone, maija.email, maija.city) == ("+358509998877", None, "Turku"), "the record is replaced whole"
    assert set(rows(api)) == {"C-1", "C-2"}


async def test_single_records_are_written_read_masked_and_deleted(api: Stack):
    headers = admin(api)
    created = await api.api.put("/directory/customers/C-9", headers=headers,
                                json={"name": "Jukka Lahtinen", "phone": "040 123 4567", "email": "jukka@example.fi"})
    assert created.status_code == 201, created.text
    assert created.json() == {"customer_key": "C-9", "name": "Jukka Lahtinen", "city": None,
                              "phone": "+358 *** 67", "email": "j***@example.fi"}
    replaced = await api.api.put("/directory/customers/C-9", headers=headers, json={"name": "Jukka Lahtinen",
                                                                                     "email": "j@example.fi"})
    assert replaced.status_code == 200 and replaced.json()["phone"] is None
    listed = (await api.api.get("/directory/customers", headers=headers)).json()
    assert listed == [replaced.json()] and "j@example.fi" not in json.dumps(listed)
    assert (await api.api.put("/directory/customers/C-9", headers=headers,
                              json={"name": "J", "phone": "123"})).status_code == 422
    assert (await api.api.delete("/directory/customers/C-9", headers=headers)).status_code == 204
    assert (await api.api.get("/directory/customers/C-9", headers=headers)).status_code == 404
    assert (await api.api.delete("/directory/customers/C-9", headers=headers)).status_code == 404


@pytest.mark.parametrize(("body", "content_type", "status", "named"), [
    (b"", "text/csv", 422, "the file is empty"),
    (b"\xff\xfe\x00garbage", "text/csv", 400, "not UTF-8"),
    (b"customer_key,name,phone\n", "text/csv", 422, "header but no customers"),
    (b"id,full_name,mobile\n1,A,040 123 4567\n", "text/csv", 422, "unknown columns ['id', 'full_name'"),
    (b"customer_key,phone\nC-1,040 123 4567\n", "text/csv", 422, "missing columns ['name']"),
    (b"customer_key,name,name\nC-1,A,B\n", "text/csv", 422, "repeated columns ['name']"),
    (b'customer_key,name\nC-1,"unclosed\n', "text/csv", 422, "cannot be read"),
    (b"[{", "application/json", 400, "not JSON"),
    (b'{"customer_key": "C-1"}', "application/json", 422, "a list of customer records"),
    (b"[]", "application/json", 422, "is empty"),
    (b"customer_key,name\n", "application/xml", 415, "text/csv or application/json"),
    ("customer_key,name,phone\n" + "".join(f"C-{n},N{n},040 123 456{n}\n" for n in range(9)), "text/csv", 413,
     "9 records, over the limit of 8"),
])
async def test_a_file_that_cannot_be_read_is_refused_naming_the_problem(api: Stack, body, content_type, status,
                                                                        named):
    content = body.encode() if isinstance(body, str) else body
    answer = await api.api.post("/directory/import", content=content,
                                headers={**admin(api), "Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert named in answer.json()["detail"]
    assert rows(api) == {}, "nothing of a refused file is written"


async def test_an_import_over_the_byte_limit_is_refused_before_it_is_read(api: Stack):
    too_big = b"customer_key,name\n" + b"x" * (api.settings.directory_import_max_bytes + 1)
    answer = await api.api.post("/directory/import", content=too_big, headers={**admin(api), **CSV})
    assert answer.status_code == 413 and "over" in answer.json()["detail"]


async def test_only_administrators_keep_the_directory(api: Stack):
    agent = api.key("aino.agent", Scope.cases_read, Scope.cases_act)
    till = api.key("till-1", Scope.incidents_write, kind=PrincipalKind.integrator)
    for headers in (agent, till):
        for method, path in (("POST", "/directory/import"), ("GET", "/directory/customers"),
                             ("PUT", "/directory/customers/C-1"), ("DELETE", "/directory/customers/C-1")):
            answer = await api.api.request(method, path, json=[], headers=headers)
            assert answer.status_code == 403 and "lacks the scope 'admin'" in answer.text, (method, path)
    assert (await api.api.get("/directory/customers", headers={"Authorization": ""})).status_code == 401


async def test_tenants_never_see_nor_change_each_others_customers(api: Stack):
    acme, rival = admin(api, "acme"), admin(api, "rival")
    await api.api.put("/directory/customers/C-1", headers=acme, json={"name": "Jukka Lahtinen",
                                                                      "phone": "040 123 4567"})
    assert (await api.api.get("/directory/customers/C-1", headers=rival)).status_code == 404
    assert (await api.api.get("/directory/customers", headers=rival)).json() == []
    assert (await api.api.delete("/directory/customers/C-1", headers=rival)).status_code == 404
    report = (await api.api.post("/directory/import", headers=rival, json=[
        {"customer_key": "C-1", "name": "Someone Else", "email": "else@rival.example"}])).json()
    assert report["created"] == 1, "the same key in another tenant is another customer"
    assert rows(api, "acme")["C-1"].phone == "+358401234567"
    assert rows(api, "rival")["C-1"].name == "Someone Else"


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b"[" + b"9" * 5000 + b"]"],
                         ids=["nested past the parser", "a number past 4300 digits"])
async def test_json_the_parser_cannot_take_is_refused_not_a_crash(api: Stack, body: bytes):
    answer = await api.api.post("/directory/import", content=body,
                                headers={**admin(api), "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert "not JSON" in answer.json()["detail"]


LONG_NAME = "Straß " * 33 + "ßß"  # 200 characters; casefolded ('ss' for 'ß') 235


async def test_a_name_whose_casefolded_key_is_longer_than_the_column_is_stored(api: Stack):
    """PostgreSQL refuses a key past its VARCHAR(200); SQLite would not notice."""
    answer = await api.api.post("/directory/import", headers=admin(api), json=[
        {"customer_key": "C-1", "name": LONG_NAME, "phone": "040 123 4567"}])
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    assert rows(api)["C-1"].name == LONG_NAME


async def test_keys_and_cities_are_one_customer_whatever_the_spaces_around_them(api: Stack):
    headers = admin(api)
    report = (await api.api.post("/directory/import", headers=headers, json=[
        {"customer_key": " C-1 ", "name": "Jukka Lahtinen", "phone": "040 123 4567", "city": " Tampere "}])).json()
    assert report["created"] == 1
    replaced = await api.api.put("/directory/customers/%20C-1", headers=headers,
                                 json={"name": "Jukka Lahtinen", "email": "jukka@example.fi"})
    assert replaced.status_code == 200, "the same customer, not a second"
    assert set(rows(api)) == {"C-1"}
    report = (await api.api.post("/directory/import", headers=headers, json=[
        {"customer_key": "C-1", "name": "Jukka Lahtinen", "phone": "040 123 4567", "city": " Tampere "}])).json()
    assert (report["created"], rows(api)["C-1"].city) == (0, "Tampere")
    blank = await api.api.put("/directory/customers/%20", headers=headers,
                              json={"name": "Jukka Lahtinen", "phone": "040 123 4567"})
    assert blank.status_code == 422 and "customer_key" in blank.text, "spaces alone are no key"


async def test_a_control_character_in_the_page_key_is_refused_naming_it(api: Stack):
    answer = await api.api.get("/directory/customers", params={"after": "C-1\x00"}, headers=admin(api))
    assert answer.status_code == 422, answer.text
    assert "after" in answer.text


async def test_empty_columns_a_spreadsheet_saved_past_the_last_are_ignored(api: Stack):
    csv = "customer_key,name,phone,,\nC-1,Jukka Lahtinen,040 123 4567,,\nC-2,Maija Meikäläinen,050 111 2222\n"
    answer = await api.api.post("/directory/import", content=csv.encode(), headers={**admin(api), **CSV})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["created"], answer.json()["rejected"]) == (2, [])


async def test_a_tenant_whose_look_ups_ask_its_crm_is_told_the_table_would_never_be_read(
        dev_server: WorkflowEnvironment, settings: Settings):
    crm = CrmDirectory(url="https://crm.acme.example/search")
    settings = settings.model_copy(update={"directory_crm": {"acme": crm}})
    async with Stack.running(dev_server, settings, with_worker=False) as stack:
        record = {"customer_key": "C-1", "name": "Jukka Lahtinen", "phone": "040 123 4567"}
        imported = await stack.api.post("/directory/import", headers=admin(stack), json=[record])
        put = await stack.api.put("/directory/customers/C-1", headers=admin(stack),
                                  json={"name": "Jukka Lahtinen", "phone": "040 123 4567"})
        assert (imported.status_code, put.status_code) == (409, 409), imported.text
        assert "DIRECTORY_CRM" in imported.json()["detail"]
        assert rows(stack) == {}
        other = await stack.api.post("/directory/import", headers=admin(stack, "rival"), json=[record])
        assert other.status_code == 200, "a tenant on the table keeps its table"
