"""The CRM adapter on its own, against a stand-in over real HTTP: what it takes from an answer, and which answers
make it unavailable (the look-up then retries and hands the case to its owner; see test_s2_directory.py)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

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


class Raw(BaseHTTPRequestHandler):
    """A CRM answering bytes as given: `body` in `pieces`, `pause` seconds apart (a CRM that drips)."""

    body, pieces, pause = b"[]", 1, 0.0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        size = -(-len(self.body) // self.pieces)
        for start in range(0, len(self.body), size):
            self.wfile.write(self.body[start:start + size])
            self.wfile.flush()
            time.sleep(self.pause)

    def log_message(self, format: str, *args) -> None:
        pass


def raw_crm(body: bytes, pieces: int = 1, pause: float = 0.0, **config) -> tuple[ThreadingHTTPServer, HttpCrmDirectory]:
    handler = type("Answer", (Raw,), {"body": body, "pieces": pieces, "pause": pause})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/search"
    return server, HttpCrmDirectory(CrmDirectory(url=url, **config), region="FI")


def test_a_crm_dripping_its_answer_is_unavailable_once_the_whole_answer_is_late():
    """httpx's timeout bounds each read only: one byte every 0.2 s would never trip a 1 s limit."""
    body = json.dumps([{"name": "Jukka Lahtinen", "phone": "040 123 4567"}]).encode()
    server, crm = raw_crm(body, pieces=len(body), pause=0.2, timeout_seconds=1)
    try:
        with pytest.raises(DirectoryUnavailable, match="in time"):
            crm.find_by_name("acme", "Jukka Lahtinen", None)
    finally:
        server.shutdown()


def test_the_timeout_is_bounded_under_the_look_ups_try():
    with pytest.raises(ValidationError, match="timeout_seconds"):
        CrmDirectory(url="https://crm.acme.example/search", timeout_seconds=20)


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b"[" + b"9" * 5000 + b"]"])
def test_an_answer_too_deep_or_too_long_to_parse_is_unavailable_not_a_crash(body: bytes):
    server, crm = raw_crm(body)
    try:
        with pytest.raises(DirectoryUnavailable):
            crm.find_by_name("acme", "Jukka Lahtinen", None)
    finally:
        server.shutdown()


@pytest.mark.parametrize("crm", [(200, [{"fullName": "Jukka Lahtinen", "phone": "040 123 4567"}])], indirect=True)
def test_records_none_of_which_the_mapping_can_name_make_the_directory_unavailable(crm: Answering):
    """A wrong `fields.name` must not quietly make every case 'not found'."""
    with pytest.raises(DirectoryUnavailable, match="mapping"):
        adapter(crm).find_by_name("acme", "Jukka Lahtinen", None)


@pytest.mark.parametrize("crm", [(200, [])], indirect=True)
def test_the_customers_name_stays_out_of_the_log(crm: Answering, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)  # as the worker logs
    assert adapter(crm).find_by_name("acme", "Jukka Lahtinen", "Tampere") == []
    assert "Lahtinen" not in caplog.text and "Tampere" not in caplog.text
