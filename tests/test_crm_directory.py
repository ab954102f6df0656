"""The CRM adapter on its own, against a stand-in over real HTTP: what it takes from an answer, and which answers
make it unavailable (the look-up then retries and hands the case to its owner; see test_s2_directory.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.directory import DirectoryUnavailable
from providers.directory.configured import directory_for
from providers.directory.crm import HttpCrmDirectory
from providers.directory.table import TableDirectory
from schemas.directory import CrmDirectory, DirectoryEntry
from settings import Settings
from tests.http_standin import FormApiStandIn, Received, serving


class Answering(FormApiStandIn):
    def __init__(self, status: int, payload) -> None:
        super().__init__()
        self.status, self.payload = status, payload

    def answer(self, request: Received) -> tuple[int, dict]:
        return self.status, self.payload


@pytest.fixture
def crm(request) -> Iterator[Answering]:
    with serving(Answering(*request.param)) as server:
        yield server


def adapter(crm: Answering) -> HttpCrmDirectory:
    return HttpCrmDirectory(CrmDirectory(url=f"{crm.base_url}/search", city_param="city"), region="FI")


@pytest.mark.parametrize("crm", [(200, [
    {"name": "Jukka  LAHTINEN", "phone": "040 123 4567", "email": "not an address", "city": "Tampere"},
    {"name": "Jukka Lahtinen", "phone": "123", "email": "jukka@example.fi", "city": "Oulu"},
    {"name": "Jukka Lahtinen-Koski", "phone": "040 999 8888"}, {"phone": "040 555 6666"}, "junk"])], indirect=True)
def test_exact_names_only_with_usable_numbers_and_addresses_the_city_preferred(crm: Answering):
    found = adapter(crm).find_by_name("acme", "Jukka Lahtinen", "Tampere")
    assert found == [DirectoryEntry(name="Jukka  LAHTINEN", city="Tampere", phone="+358401234567", email=None)]
    assert crm.received[0].form == {"name": "Jukka Lahtinen", "city": "Tampere"}
    both = adapter(crm).find_by_name("acme", "Jukka Lahtinen", None)
    assert [entry.phone for entry in both] == ["+358401234567", None], "an impossible number is left out"


@pytest.mark.parametrize(("crm", "named"), [
    ((500, {"error": "down"}), "HTTP 500"), ((302, {}), "HTTP 302"), ((401, {}), "HTTP 401"),
    ((200, {"customers": []}), "no list of records"),
], indirect=["crm"])
def test_an_answer_it_cannot_use_makes_the_directory_unavailable(crm: Answering, named: str):
    with pytest.raises(DirectoryUnavailable, match=named) as refused:
        adapter(crm).find_by_name("acme", "Jukka Lahtinen", None)
    assert "Lahtinen" not in str(refused.value), "the customer's name stays out of errors and logs"


def test_a_crm_nobody_answers_at_is_unavailable():
    config = CrmDirectory(url="http://127.0.0.1:9/search", timeout_seconds=0.5)  # the discard port: refused
    with pytest.raises(DirectoryUnavailable, match="could not be asked"):
        HttpCrmDirectory(config, region="FI").find_by_name("acme", "Jukka Lahtinen", None)


def test_each_tenant_gets_its_configured_directory(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                        directory_crm={"acme": CrmDirectory(url="https://crm.acme.example/search")})
    assert isinstance(directory_for(settings, "acme"), HttpCrmDirectory)
    assert isinstance(directory_for(settings, "rival"), TableDirectory)
