"""S2 in a deployment: the directory the name-only look-up reads is filled by the company (an import over HTTP) or
is the company's CRM (asked over HTTP). Either way the look-up is on the access record, another tenant's customers
are never found, two people of one name are never guessed between, and a CRM that does not answer sends the case
to its owner instead of leaving it waiting.

On the dev server: nothing here skips time, and the name-only cases these tests leave waiting would stall a later
test's skip on the shared time-skipping server."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from schemas.auth import PrincipalKind, Scope
from schemas.directory import CrmDirectory, CrmFields
from settings import Settings
from store.tables import AccessRecordRow, SandboxOutboxEntry
from tests.harness import Stack, eventually, serving
from tests.http_standin import FormApiStandIn, Received
from tests.http_standin import serving as standing_in
from tests.scenarios.test_s2_ticket_paid_twice import paid_twice

pytestmark = pytest.mark.both_databases

IMPORT = ("customer_key,name,phone,email,city\n"
          "VR-1001,Jukka Lahtinen,040 123 4567,jukka@example.fi,Tampere\n"
          "VR-1002,Jukka Lahtinen,050 765 4321,,Rovaniemi\n"  # another Jukka, elsewhere: the city tells them apart
          "VR-1003,Maija Meikäläinen,123,maija@example.fi,Oulu\n"
          "VR-1004,,040 111 2222,,Turku\n")
PHONE = "+358401234567"
PURPOSE = "return a double payment to the customer"


def fresh(external_id: str) -> str:
    """Case ids derive from the integrator and its id, and the dev server is the session's: one per test run."""
    return f"{external_id}-{uuid.uuid4().hex[:8]}"


async def test_a_directory_imported_over_http_finds_the_customer_a_name_only_case_calls(live_stack: Stack):
    """Must show 3: a CSV with two bad rows (reported), then an S2 case posted with only a name: the customer is
    called at the number from the directory, and the look-up is on the access record."""
    stack = live_stack
    admin = stack.key("directory.admin", Scope.admin)
    till = stack.key("vr-helpdesk", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    async with serving(stack.app) as url, httpx.AsyncClient(base_url=url) as http:
        imported = await http.post("/directory/import", content=IMPORT.encode(),
                                   headers={**admin, "Content-Type": "text/csv"})
        assert imported.status_code == 200, imported.text
        report = imported.json()
        assert (report["received"], report["created"]) == (4, 2)
        assert [(row["row"], row["field"]) for row in report["rejected"]] == [(3, "phone"), (4, "name")]
        assert "is not a possible phone number" in report["rejected"][0]["reason"]

        opened = await http.post("/incidents", json=paid_twice(fresh("vr-import-1")), headers=till)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]

        [call] = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"), within=30)
        assert call.to_address == PHONE and "charged twice" in call.body
        [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
        assert (look_up.actor, look_up.purpose, look_up.fields) == ("aino.agent", PURPOSE, ["email", "phone"])
        shown = (await http.get(f"/cases/{case_id}", headers=till)).json()
        assert PHONE not in str(shown), "the number stays masked in the case's view"


async def test_another_tenants_customer_is_never_found(live_stack: Stack):
    stack = live_stack
    await stack.api.put("/directory/customers/VR-1001", headers=stack.key("acme.admin", Scope.admin),
                        json={"name": "Jukka Lahtinen", "phone": "040 123 4567", "city": "Tampere"})
    rival_till = stack.key("rival-till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator,
                           tenant="rival")
    incident = {**paid_twice(fresh("rival-1")), "owner": None}
    case_id = (await stack.api.post("/incidents", json=incident, headers=rival_till)).json()["case_id"]

    await eventually(lambda: stack.case(case_id).status == "needs_attention", within=30)
    assert stack.rows(SandboxOutboxEntry) == [], "nobody was contacted"
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert (look_up.tenant, look_up.fields) == ("rival", ["name"])


class Crm(FormApiStandIn):
    """A CRM's customer search: a fuzzy match on the name, its records nested as that CRM keeps them."""

    def __init__(self, records: list[dict], fail_with: int | None = None, stall_seconds: float = 0) -> None:
        super().__init__()
        self.records, self.status, self.stall_seconds = records, fail_with, stall_seconds

    def answer(self, request: Received) -> tuple[int, dict]:
        time.sleep(self.stall_seconds)
        if self.status is not None:
            return self.status, {"error": "internal"}
        return 200, {"data": {"customers": [record for record in self.records
                                            if request.form["q"].split()[-1] in record["fullName"]]}}


JUKKA = {"fullName": "Jukka Lahtinen", "contact": {"mobile": "040 123 4567", "mail": "jukka@example.fi"},
         "town": "Tampere"}
NAMESAKE = {"fullName": "Jukka Lahtinen", "contact": {"mobile": "050 765 4321"}, "town": "Tampere"}
FUZZY = {"fullName": "Jukka Lahtinen-Koski", "contact": {"mobile": "040 999 8888"}, "town": "Tampere"}


@pytest.fixture
def crm(request) -> Iterator[Crm]:
    with standing_in(Crm(**request.param)) as server:
        yield server


@pytest.fixture
async def crm_stack(crm: Crm, dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    config = CrmDirectory(url=f"{crm.base_url}/api/customers/search", name_param="q", auth_value="Bearer crm-token",
                          results_path="data.customers", timeout_seconds=0.5, attempts=2,
                          fields=CrmFields(name="fullName", phone="contact.mobile", email="contact.mail", city="town"))
    settings = settings.model_copy(update={"directory_crm": {"acme": config}})
    async with Stack.running(dev_server, settings) as stack:
        yield stack


@pytest.mark.parametrize("crm", [{"records": [JUKKA, FUZZY]}], indirect=True)
async def test_the_crm_finds_the_customer_and_only_the_exact_name_counts(crm: Crm, crm_stack: Stack):
    stack = crm_stack
    case_id = (await stack.api.post("/incidents", json=paid_twice(fresh("crm-1")))).json()["case_id"]

    [call] = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"), within=30)
    assert call.to_address == PHONE, "the CRM's '040 123 4567' in E.164; the fuzzy namesake not counted"
    [asked] = crm.received
    assert (asked.path, asked.form["q"], asked.headers["Authorization"]) == (
        "/api/customers/search", "Jukka Lahtinen", "Bearer crm-token")
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert (look_up.purpose, look_up.fields) == (PURPOSE, ["email", "phone"])


@pytest.mark.parametrize("crm", [{"records": [JUKKA, NAMESAKE]}], indirect=True)
async def test_two_customers_of_the_name_in_the_crm_are_never_guessed_between(crm: Crm, crm_stack: Stack):
    stack = crm_stack
    case_id = (await stack.api.post("/incidents", json=paid_twice(fresh("crm-2")))).json()["case_id"]

    await eventually(lambda: stack.case(case_id).status == "needs_attention", within=30)
    assert stack.rows(SandboxOutboxEntry) == []
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("ambiguous (2 matches); not guessed" in entry["note"] for entry in timeline)


@pytest.mark.parametrize("crm", [{"records": [JUKKA], "fail_with": 500}, {"records": [JUKKA], "stall_seconds": 2}],
                         indirect=True, ids=["answering 500", "timing out"])
async def test_a_crm_that_does_not_answer_sends_the_case_to_its_owner(crm: Crm, crm_stack: Stack):
    stack = crm_stack
    case_id = (await stack.api.post("/incidents", json=paid_twice(fresh("crm-3")))).json()["case_id"]

    await eventually(lambda: stack.case(case_id).status == "needs_attention", within=30)
    assert len(crm.received) == 2, "asked the configured number of times, then handed over"
    assert stack.rows(SandboxOutboxEntry) == []
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("the directory did not answer" in entry["note"] for entry in timeline)
    assert stack.case(case_id).owner == "aino.agent"
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert look_up.fields == ["name"], "the name was sent to the CRM, on the record; nothing came back"


async def test_the_only_namesake_lives_in_another_city_so_the_case_goes_to_its_owner(live_stack: Stack):
    """The case's Jukka was in Tampere; the directory's only Jukka lives in Rovaniemi: maybe not him, never called."""
    stack = live_stack
    await stack.api.put("/directory/customers/VR-2001", headers=stack.key("acme.admin", Scope.admin),
                        json={"name": "Jukka Lahtinen", "phone": "050 765 4321", "city": "Rovaniemi"})
    case_id = (await stack.api.post("/incidents", json=paid_twice(fresh("elsewhere-1")))).json()["case_id"]

    await eventually(lambda: stack.case(case_id).status == "needs_attention", within=30)
    assert stack.rows(SandboxOutboxEntry) == [], "nobody was contacted"
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("ambiguous (1 matches); not guessed" in entry["note"] for entry in timeline)


LONG_NAME = "Straß " * 33 + "ßß"  # 200 characters, 235 casefolded: longer than the name key's column


async def test_a_customer_whose_name_outgrows_its_key_column_is_found_and_the_look_up_recorded(live_stack: Stack):
    stack = live_stack
    await stack.api.put("/directory/customers/VR-3001", headers=stack.key("acme.admin", Scope.admin),
                        json={"name": LONG_NAME, "phone": "040 123 4567", "city": "Tampere"})
    case_id = (await stack.api.post("/incidents", json=paid_twice(fresh("long-1"), name=LONG_NAME))).json()["case_id"]

    [call] = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"), within=30)
    assert call.to_address == PHONE
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert look_up.fields == ["email", "phone"]
