"""Defaults that keep doors shut: no process sends customers' data to Temporal in clear unless told to; a key
has a request rate and a body a size; a voucher code cannot be worked out from anything a case shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from activities.compensation import CompensationActivities
from api.app import MAX_BODY_BYTES
from api.limits import RateLimiter
from schemas.auth import Scope
from schemas.compensation import CompensationRequest
from schemas.money import Money
from schemas.progress import CaseProgress, CaseStatus, CaseStep
from settings import PROJECT_DIR, Settings
from store.db import engine_for, session_for
from store.tables import CaseRow, CompensationRow
from tests.harness import Stack


def started_without_keys(*argv: str, **extra: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("PAYLOAD_KEYS", "ALLOW_UNENCRYPTED_PAYLOADS")}
    environment |= {"TEMPORAL_ADDRESS": "127.0.0.1:9", **extra}  # nothing listens: it must not get that far
    return subprocess.run([sys.executable, *argv], cwd=PROJECT_DIR, env=environment, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("argv", [("worker.py",), ("-m", "api")])
def test_the_worker_and_the_api_refuse_to_start_without_payload_keys(argv):
    refused = started_without_keys(*argv)
    assert refused.returncode != 0
    assert "PAYLOAD_KEYS is not set" in refused.stderr and "ALLOW_UNENCRYPTED_PAYLOADS" in refused.stderr
    assert "python -m security.codec new-key" in refused.stderr, "the message says what to do"


async def test_a_key_over_its_rate_is_told_when_to_come_back(stack: Stack):
    stack.app.state.rate_limiter = RateLimiter(per_second=1, burst=3)
    reader, other = stack.key("ann.agent", Scope.cases_read), stack.key("bob.agent", Scope.cases_read)
    answers = [await stack.api.get("/cases", headers=reader) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert (await stack.api.get("/cases", headers=other)).status_code == 200, "each key has its own bucket"


async def test_a_flood_of_made_up_keys_from_one_address_is_stopped_before_any_look_up(stack: Stack):
    """Review minor 13: every made-up key has a fresh bucket of its own, so the per-key limit cannot stop them;
    the client address's failures can. A key already verified from that address still passes."""
    stack.app.state.failed_auth_limiter = RateLimiter(per_second=0.01, burst=5)
    reader = stack.key("ann.agent", Scope.cases_read)
    assert (await stack.api.get("/cases", headers=reader)).status_code == 200  # verified (and cached) first
    answers = [(await stack.api.get("/cases", headers={"Authorization": f"Bearer sre_{n:016x}_guess"})).status_code
               for n in range(8)]
    assert answers == [401] * 5 + [429] * 3
    assert (await stack.api.get("/cases", headers={"Authorization": "Bearer sre_0_x"})).headers["retry-after"]
    assert (await stack.api.get("/cases", headers=reader)).status_code == 200


def test_the_rate_limiter_forgets_the_least_recently_seen_keys_not_all(monkeypatch):
    monkeypatch.setattr(RateLimiter, "MAX_KEYS", 3)
    limiter = RateLimiter(per_second=0.001, burst=1)
    assert limiter.wait_needed("flooding") == 0
    for made_up in ("a", "b", "c", "d"):  # more keys than it keeps
        limiter.wait_needed(made_up)
        assert limiter.wait_needed("flooding", take=False) > 0, "its empty bucket is kept while it is in use"


async def test_a_body_over_the_limit_is_refused_with_or_without_its_length(stack: Stack):
    too_big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    declared = await stack.api.post("/incidents", content=too_big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413

    async def chunks():  # no Content-Length: sent chunked
        for start in range(0, len(too_big), 65536):
            yield too_big[start:start + 65536]

    streamed = await stack.api.post("/incidents", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413

    async def small():
        yield b'{"external_id": "x"}'

    fits = await stack.api.post("/incidents", content=small(), headers={"Content-Type": "application/json"})
    assert fits.status_code == 422, "a chunked body within the limit is read and validated as usual"


def test_voucher_codes_are_random_and_granted_once_per_key(settings: Settings):
    engine_for(settings.database_url)
    with session_for(settings.database_url) as session:
        for case_id in ("case-a", "case-b"):
            session.add(CaseRow(id=case_id, reference=case_id, tenant="acme", integrator="i", external_id=case_id,
                                kind="complaint", source="till", status="open", step="compensation",
                                customer_name="Jari", opened_at=datetime.now(UTC)))
        session.commit()
    grant = CompensationActivities(settings.database_url).grant_compensation

    def request(case_id: str) -> CompensationRequest:
        return CompensationRequest(
            case_id=case_id, idempotency_key=f"{case_id}:goodwill", kind="voucher", product="a month of sport",
            value=Money(amount_minor=2990, currency="EUR"),
            progress=CaseProgress(case_id=case_id, step=CaseStep.compensation, status=CaseStatus.open, note="x"))

    first, retried, other = grant(request("case-a")), grant(request("case-a")), grant(request("case-b"))
    assert first.code == retried.code, "a retry hands out the same code"
    assert first.code != other.code
    assert re.fullmatch(r"GW-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", first.code)
    with session_for(settings.database_url) as session:
        assert len(session.exec(select(CompensationRow)).all()) == 2
