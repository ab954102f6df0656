"""S6, measure it: the summary and the Prometheus figures are the numbers of the cases that really ran.

Four cases go through the engine: two till overcharges recovered over SMS (the customers answer 5 and 3 to the
follow-up), a small undercharge written off without a word, and an overcharge a contact centre reported whose
customer has been emailed and has not answered yet. Expected durations come from the cases' own timestamps.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from api.routes.metrics import router as metrics_router
from metrics.prometheus import ReadModelCollector
from metrics.read_model import CaseScope
from metrics.temporal_sdk import runtime_with_prometheus
from schemas.auth import PrincipalKind, Scope
from schemas.cases import LiveState
from schemas.progress import CaseOutcome, CaseStep
from settings import Settings
from store.db import session_for
from store.tables import CaseRow, CompensationRow
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

TILL, UNANSWERED = ("overcharge", "transaction_monitor"), ("overcharge", "contact_centre")
WRITTEN_OFF = ("undercharge", "transaction_monitor")


@pytest.fixture
async def measured(stack: Stack) -> dict[str, CaseRow]:
    """The stack with the metrics routes (not in create_app yet) and the four cases behind it, by name."""
    stack.app.include_router(metrics_router)
    five = await recovered_over_sms(stack, "T-5", answer="1", score="5")
    three = await recovered_over_sms(stack, "T-3", answer="2", score="3")
    small = (await stack.api.post("/transactions", json=till_record("U-1", charged_minor=1490 - 500))).json()
    await eventually(lambda: stack.case(small["case"]["case_id"]).outcome == CaseOutcome.written_off)
    # Opened last: the time skipped for the others' follow-ups would run out this one's wait for an answer.
    unanswered = await emailed_by_the_contact_centre(stack)
    await eventually(lambda: stack.case(unanswered).first_contact_at)
    return {name: stack.case(case_id) for name, case_id in
            [("five", five), ("three", three), ("written_off", small["case"]["case_id"]), ("unanswered", unanswered)]}


async def recovered_over_sms(stack: Stack, transaction_id: str, answer: str, score: str) -> str:
    case_id = (await stack.api.post("/transactions", json=till_record(transaction_id))).json()["case"]["case_id"]
    await eventually(lambda: stack.outbound(case_id))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": answer, "sender": PHONE})
    await following_up(stack, case_id)
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: stack.outbound(case_id)[2:])  # the satisfaction question
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": score, "sender": PHONE})
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.recovered
    return case_id


async def following_up(stack: Stack, case_id: str, within: float = 15.0) -> None:
    """Refunded, thanked, and the follow-up delay running: skipping time before its timer starts would skip past
    nothing, and the satisfaction question would never come."""
    handle = stack.env.client.get_workflow_handle(case_id)
    deadline = time.monotonic() + within
    while (live := await handle.query("state", result_type=LiveState)).step != CaseStep.follow_up:
        assert time.monotonic() < deadline, f"not following up within {within}s: {live}"
        await asyncio.sleep(0.05)


async def emailed_by_the_contact_centre(stack: Stack) -> str:
    incident = {"external_id": "cc-1", "kind": "overcharge", "source": "contact_centre", "store": "Prisma Kaleva",
                "amount": {"amount_minor": 1400, "currency": "EUR"},
                "customer": {"name": "Liisa Laine", "email": "liisa@example.fi", "language": "fi"}}
    response = await stack.api.post("/incidents", json=incident, headers=contact_centre(stack))
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


def contact_centre(stack: Stack) -> dict[str, str]:
    """An integrator of its own per test: case ids derive from (integrator, external id), and the time-skipping
    server outlives the test and keeps every workflow id an earlier test's case has taken."""
    return stack.key(f"contact-centre-{stack.settings.temporal_task_queue}", Scope.incidents_write, Scope.cases_read,
                     kind=PrincipalKind.integrator)


def seconds_to(case: CaseRow, milestone: str) -> float:
    return (getattr(case, milestone) - case.opened_at).total_seconds()


async def test_the_summary_counts_times_and_rates_the_cases_of_the_period(stack: Stack, measured: dict):
    summary = (await stack.api.get("/metrics/summary")).json()  # the last 30 days

    overall = summary["overall"]
    assert (overall["opened"], overall["closed"]) == (4, 3)
    assert overall["satisfaction"] == {"responses": 2, "average": 4.0, "distribution": {"1": 0, "2": 0, "3": 1,
                                                                                         "4": 0, "5": 1}}
    assert overall["recovery"] == {"closed": 3, "recovered": 2, "share": round(2 / 3, 4),
                                   "outcomes": {"recovered": 2, "written_off": 1}}
    assert overall["sla"] is None, "not measured until cases carry SLA deadlines"
    assert [overall[m]["count"] for m in ("time_to_first_contact", "time_to_refund", "time_to_close")] == [3, 2, 3]

    closing = sorted(seconds_to(measured[name], "closed_at") for name in ("five", "three", "written_off"))
    assert overall["time_to_close"]["median_seconds"] == pytest.approx(closing[1], abs=0.002)
    assert overall["time_to_close"]["p90_seconds"] == pytest.approx(closing[1] + 0.8 * (closing[2] - closing[1]),
                                                                    abs=0.002)
    first, second = sorted(seconds_to(measured[name], "refunded_at") for name in ("five", "three"))
    assert overall["time_to_refund"]["median_seconds"] == pytest.approx((first + second) / 2, abs=0.002)
    assert overall["time_to_refund"]["p90_seconds"] == pytest.approx(first + 0.9 * (second - first), abs=0.002)


async def test_the_summary_groups_by_workflow_type_channel_of_first_contact_and_source(stack: Stack, measured: dict):
    summary = (await stack.api.get("/metrics/summary")).json()

    def opened_closed_share(group: dict) -> dict:
        return {key: (stats["opened"], stats["closed"], stats["recovery"]["share"]) for key, stats in group.items()}

    assert opened_closed_share(summary["by_kind"]) == {"overcharge": (3, 2, 1.0), "undercharge": (1, 1, 0.0)}
    assert opened_closed_share(summary["by_channel"]) == {"sms": (2, 2, 1.0), "email": (1, 0, None),
                                                          "none": (1, 1, 0.0)}
    assert opened_closed_share(summary["by_source"]) == {"transaction_monitor": (3, 3, round(2 / 3, 4)),
                                                         "contact_centre": (1, 0, None)}
    assert summary["by_kind"]["undercharge"]["satisfaction"]["average"] is None
    email = summary["by_channel"]["email"]["time_to_first_contact"]
    assert email["count"] == 1
    assert email["median_seconds"] == pytest.approx(seconds_to(measured["unanswered"], "first_contact_at"), abs=0.002)


async def test_a_period_counts_only_the_cases_opened_in_it(stack: Stack, measured: dict):
    opened = min(case.opened_at for case in measured.values())
    before = {"opened_from": (opened - timedelta(days=1)).isoformat(), "opened_to": opened.isoformat()}
    summary = (await stack.api.get("/metrics/summary", params=before)).json()
    assert summary["overall"]["opened"] == 0 and summary["by_kind"] == {}
    assert summary["overall"]["time_to_close"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    from_the_first = {"opened_from": opened.isoformat(), "opened_to": (opened + timedelta(microseconds=1)).isoformat()}
    assert (await stack.api.get("/metrics/summary", params=from_the_first)).json()["overall"]["opened"] == 1

    for wrong in ({"opened_from": before["opened_to"], "opened_to": before["opened_from"]},
                  {"opened_from": "2025-05-01T00:00:00"}):  # backwards; no time zone
        assert (await stack.api.get("/metrics/summary", params=wrong)).status_code == 422, wrong


async def test_an_integrator_measures_only_the_cases_it_opened(stack: Stack, measured: dict):
    summary = (await stack.api.get("/metrics/summary", headers=contact_centre(stack))).json()
    assert summary["overall"]["opened"] == 1 and list(summary["by_source"]) == ["contact_centre"]

    samples = scrape_text((await stack.api.get("/metrics", headers=contact_centre(stack))).text)
    assert {labels for name, labels in samples if name == "recovery_cases_opened_total"} == {
        (("kind", "overcharge"), ("source", "contact_centre"))}
    assert not any(name.startswith("recovery_refund") for name, _ in samples), "its case has no refund yet"


async def test_prometheus_exposes_the_same_cases_as_counters_and_histograms(stack: Stack, measured: dict):
    response = await stack.api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = scrape_text(response.text)

    assert opened_by_group(samples) == {TILL: 2, WRITTEN_OFF: 1, UNANSWERED: 1}
    assert sample(samples, "recovery_cases_closed_total", *TILL, outcome="recovered") == 2
    assert sample(samples, "recovery_cases_closed_total", *WRITTEN_OFF, outcome="written_off") == 1
    assert sample(samples, "recovery_cases_open", *UNANSWERED, status=measured["unanswered"].status) == 1

    closing = [seconds_to(measured[name], "closed_at") for name in ("five", "three")]
    assert sample(samples, "recovery_time_to_close_seconds_count", *TILL) == 2
    assert sample(samples, "recovery_time_to_close_seconds_sum", *TILL) == pytest.approx(sum(closing), abs=0.002)
    assert sample(samples, "recovery_time_to_close_seconds_bucket", *TILL, le="+Inf") == 2
    assert sample(samples, "recovery_time_to_first_contact_seconds_count", *UNANSWERED) == 1
    assert sample(samples, "recovery_time_to_refund_seconds_count", *WRITTEN_OFF) == 0

    assert [sample(samples, "recovery_satisfaction_score_bucket", *TILL, le=le)
            for le in ("1.0", "2.0", "3.0", "4.0", "5.0", "+Inf")] == [0, 0, 1, 1, 2, 2]
    assert sample(samples, "recovery_satisfaction_score_sum", *TILL) == 5 + 3

    assert sample(samples, "recovery_refunds_total", currency="EUR") == 2
    assert sample(samples, "recovery_refund_amount_minor_units_total", currency="EUR") == 995 + 995
    assert sample(samples, "recovery_sla_tracked") == 0
    assert {labels: value for (name, labels), value in samples.items() if name == "recovery_sla_breaches_total"} \
        == {labels: 0 for labels in opened_by_group(samples, labelled=True)}


async def test_the_metrics_routes_need_a_key_with_cases_read(stack: Stack):
    stack.app.include_router(metrics_router)
    for path in ("/metrics", "/metrics/summary"):
        assert (await stack.api.get(path, headers={"Authorization": ""})).status_code == 401
        assert (await stack.api.get(path, headers=stack.key("nobody"))).status_code == 403
        assert (await stack.api.get(path, headers=stack.key("ann.agent", Scope.cases_read))).status_code == 200


def test_compensations_are_counted_per_currency(settings: Settings):
    with session_for(settings.database_url) as session:
        for case_id, amount_minor, currency in (("case-a", 1500, "EUR"), ("case-b", 500, "EUR"),
                                                ("case-c", 9900, "SEK")):
            session.add(CompensationRow(case_id=case_id, idempotency_key=f"{case_id}:goodwill", kind="voucher",
                                        product="a month of sport", amount_minor=amount_minor, currency=currency,
                                        code="GW-TEST"))
        session.commit()
        registry = CollectorRegistry()
        registry.register(ReadModelCollector(session, CaseScope()))
        samples = scrape_text(generate_latest(registry).decode())
    assert sample(samples, "recovery_compensations_total", currency="EUR") == 2
    assert sample(samples, "recovery_compensation_amount_minor_units_total", currency="EUR") == 2000
    assert sample(samples, "recovery_compensation_amount_minor_units_total", currency="SEK") == 9900


async def test_the_worker_runtime_serves_the_temporal_sdks_own_metrics(stack: Stack):
    address = f"127.0.0.1:{free_port()}"
    runtime = runtime_with_prometheus(address)
    client = await Client.connect(stack.env.client.service_client.config.target_host, runtime=runtime)
    await client.service_client.check_health()

    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://{address}/metrics")).text
    assert "temporal_request" in text, text[:500]


# -- reading the exposition ------------------------------------------------------------------------------

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape_text(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: Samples, name: str, kind: str | None = None, source: str | None = None, **labels: str) -> float:
    if kind is not None:
        labels |= {"kind": kind, "source": source}
    return samples[name, tuple(sorted(labels.items()))]


def opened_by_group(samples: Samples, labelled: bool = False) -> dict:
    opened = {labels: value for (name, labels), value in samples.items() if name == "recovery_cases_opened_total"}
    return opened if labelled else {(dict(labels)["kind"], dict(labels)["source"]): v for labels, v in opened.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
