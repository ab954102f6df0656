"""The staff's message preview: what the case's customer would receive next (their language, the channel, the
workflow's facts, signed by the owner) with the recovery-quality check's verdict; scoped like every case route."""

from __future__ import annotations

from messages.preview import preview
from schemas.auth import PrincipalKind, Scope
from schemas.channels import Channel, Language
from schemas.messages import MessageFacts, NextMessageFacts
from settings import Settings
from store.tables import SandboxOutboxEntry
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.test_auth import CONSOLE
from tests.test_console_auth import client, session_of
from worker import build_worker

PREVIEW = "/cases/{}/messages/preview"


async def finnish_overcharge(stack: Stack, transaction_id: str) -> str:
    record = till_record(transaction_id)
    record["customer"]["language"] = "fi"
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))  # the question is out: the case waits for the answer
    return case_id


async def test_the_preview_is_the_next_message_in_the_customers_language_with_the_checks_verdict(stack: Stack):
    case_id = await finnish_overcharge(stack, "T-PRE-1")
    thanks = (await stack.api.get(PREVIEW.format(case_id), params={"template": "overcharge/thank_you"})).json()
    assert (thanks["language"], thanks["channel"], thanks["sms_segments"]) == ("fi", "sms", 2)
    assert thanks["body"].startswith("Kiitos, Maija Meikäläinen. Palautimme 9,95 € kortillesi"), thanks["body"]
    assert "Duty.Manager, asiakaspalvelu. Vastaa tähän viestiin" in thanks["body"], "signed by the owner"
    assert (thanks["passes"], thanks["problems"]) == (True, []), thanks["problems"]

    email = (await stack.api.get(PREVIEW.format(case_id), params={"template": "overcharge/ask_destination",
                                                                  "channel": "email"})).json()
    assert email["subject"] == "Veloitimme sinulta 9,95 € liikaa: Prisma Kaleva" and email["passes"]
    text = (await stack.api.get(PREVIEW.format(case_id), params={"template": "overcharge/ask_destination"})).json()
    assert text["body"] == stack.texts_to(PHONE)[0].body, "the preview is the message the customer got"
    assert email["body"].startswith("Hei Maija Meikäläinen,") and text["body"].startswith("Hei Maija Meikäläinen,"), \
        "a text that fits greets by the whole name, as an email does"

    # No personal reply is written yet: sent now, it would read "None", and the verdict says so.
    reply = (await stack.api.get(PREVIEW.format(case_id), params={"template": "common/personal_reply"})).json()
    assert not reply["passes"] and any("placeholder: 'None'" in problem for problem in reply["problems"])
    assert "401234567" not in str([thanks, email, reply]), "no contact detail in any preview"


async def test_the_preview_refuses_naming_what_is_wrong_and_keeps_to_the_callers_cases(stack: Stack):
    case_id = await finnish_overcharge(stack, "T-PRE-2")
    url = PREVIEW.format(case_id)
    unknown = await stack.api.get(url, params={"template": "overcharge/sorry_not_sorry"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == [{"loc": ["query", "template"], "type": "unknown_template",
                                         "msg": "no template 'overcharge/sorry_not_sorry'"}]
    other_kind = await stack.api.get(url, params={"template": "complaint/put_right"})
    assert other_kind.json()["detail"][0]["msg"] == "'complaint/put_right' is not a message of a overcharge case"
    agent = await stack.api.get(url, params={"template": "overcharge/thank_you", "channel": "agent"})
    assert (agent.status_code, agent.json()["detail"][0]["loc"]) == (422, ["query", "channel"])

    stranger = stack.key("someone.else", Scope.cases_read, tenant="another-tenant")
    elsewhere = await stack.api.get(url, params={"template": "overcharge/thank_you"}, headers=stranger)
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"detail": f"no case {case_id}"})
    till = stack.key("till-preview", Scope.cases_read, kind=PrincipalKind.integrator)
    assert (await stack.api.get(url, params={"template": "overcharge/thank_you"}, headers=till)).status_code == 403


def test_contact_details_in_a_preview_are_masked_as_in_every_staff_view():
    """An agent's reply may quote a number or an account: the preview masks them in the body and the verdict."""
    facts = MessageFacts(customer_name="Maija", case_reference="3F9A1C07", owner_name="Aino Virtanen",
                         reply_text="Hello Maija, we paid FI21 1234 5600 0007 85; call +358401234567. None. Aino")
    shown = preview("common/personal_reply", None, NextMessageFacts(language=Language.en, channels=[Channel.email],
                                                                    facts=facts))
    assert shown.channel is Channel.email and shown.sms_segments is None
    assert "FI***85" in shown.body and "+358 *** 67" in shown.body
    text = str(shown.model_dump())
    assert "0007" not in text and "401234567" not in text, "the placeholder problem quotes the text, masked"
    assert not shown.passes


def test_a_number_written_the_national_way_is_masked_in_the_preview():
    """The customer's topic as they wrote it ("soittakaa 040 123 4567") and an agent's reply quoting it: in the body,
    the subject and the verdict, whatever the channel (the review's minor)."""
    facts = MessageFacts(customer_name="Maija Meikäläinen", case_reference="3F9A1C07", owner_name="Aino Virtanen",
                         topic="kaksi veloitusta, soittakaa 040 123 4567",
                         reply_text="Hei Maija, soitin numeroon (09) 123 4567 ja +358 40 765 4321. None. Aino")
    for template, channel in [("common/acknowledgement", Channel.sms), ("common/acknowledgement", Channel.email),
                              ("common/personal_reply", Channel.sms), ("common/personal_reply", Channel.email)]:
        shown = preview(template, channel, NextMessageFacts(language=Language.fi, channels=[channel], facts=facts))
        text = str(shown.model_dump()).replace(" ", "").replace("-", "")
        assert "+358***" in text and not any(digits in text for digits in ("1234567", "0407654321", "7654321"))


async def test_the_case_page_previews_a_message_with_its_verdict_in_the_viewers_language(stack: Stack):
    case_id = await finnish_overcharge(stack, "T-PRE-3")
    ours, theirs = session_of(stack, TENANT, "preview.supervisor"), session_of(stack, "other-tenant", "their.one")
    async with client(stack, ours) as us, client(stack, theirs) as them:
        page = (await us.get(f"{CONSOLE}/cases/{case_id}")).text
        assert 'id="h-preview"' in page and '<option value="overcharge/thank_you">' in page
        assert '<option value="complaint/put_right">' not in page, "only this kind's messages and the common ones"
        url = f"{CONSOLE}/cases/{case_id}/preview"
        shown = (await us.get(url, params={"template": "overcharge/thank_you"},
                              headers={"Accept-Language": "fi"})).text
        assert "Kiitos, Maija Meikäläinen. Palautimme 9,95 € kortillesi" in shown
        assert "Laatutarkistus menee läpi." in shown and PHONE not in shown
        refused = (await us.get(url, params={"template": "overcharge/nope"})).text
        assert "no template &#39;overcharge/nope&#39;" in refused
        fax = (await us.get(url, params={"template": "overcharge/thank_you", "channel": "fax"})).text
        assert "&#39;fax&#39; is no channel: one of sms, voice, email" in fax, "refused, not previewed as a text"
        assert "Kiitos, Maija" not in fax
        assert (await them.get(url, params={"template": "overcharge/thank_you"})).status_code == 404


def test_a_template_the_case_cannot_fill_yet_is_a_failing_verdict_not_a_500():
    """data_misuse/outcome before any findings: render raises TemplateFailed (a ValueError, not Jinja's error),
    which the route used to let through as a 500 (review M3)."""
    facts = MessageFacts(customer_name="Maija", case_reference="3F9A1C07", owner_name="Aino Virtanen")
    shown = preview("data_misuse/outcome", None, NextMessageFacts(language=Language.fi, channels=[Channel.email],
                                                                  facts=facts))
    assert not shown.passes and shown.body == ""
    assert "cannot be written yet: template data_misuse/outcome" in shown.problems[0], shown.problems


async def test_an_old_landline_case_is_previewed_on_the_channel_it_would_really_use(time_skipping, settings: Settings):
    """A case opened before the `landlines-not-texted` patch texts its landline still (its history says so); the
    `message_facts` query may not ask for a patch, so it reads what the plan chose: the preview says "sms" for it
    and "email" for a case opened now, each as its workflow sends (the review's minor)."""
    async with Stack.running(time_skipping, settings, with_worker=False) as stack:
        for transaction_id, patches_on, sent_on in [("T-PRE-OLD", False, "sms"), ("T-PRE-NEW", True, "email")]:
            old_or_new = build_worker(stack.env.client, settings, patch_activation_callback=lambda patch, on=patches_on:
                                      on or patch.patch_id != "landlines-not-texted")
            record = till_record(transaction_id)
            record["customer"] |= {"phone": "09 1234 5678", "email": "maija@example.fi"}
            async with old_or_new:
                case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
                [question] = await eventually(lambda case_id=case_id: [
                    row for row in stack.rows(SandboxOutboxEntry) if case_id in row.idempotency_key])
                asked = {"template": "overcharge/thank_you"}
                shown = (await stack.api.get(PREVIEW.format(case_id), params=asked)).json()
                await stack.terminate_open_cases()
            assert question.channel == sent_on and shown["channel"] == sent_on, (transaction_id, question, shown)
