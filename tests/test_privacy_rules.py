"""The pure parts of S5: what a view masks, who may reveal, and when the legal month ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from privacy.masking import mask_address, mask_text
from privacy.rules import may_reveal, role_of
from schemas.auth import Principal, PrincipalKind, Scope
from schemas.privacy import AccessRole, PrivacyPolicy
from store.tables import CaseRow


def test_contact_details_and_bank_accounts_are_masked_inside_free_text():
    text = "Pay FI21 1234 5600 0007 85 or GB82WEST12345698765432, call +358 40 123 4567, mail maija@example.fi"
    assert mask_text(text) == "Pay FI***85 or GB***32, call +358 *** 67, mail m***@example.fi"
    assert mask_text("ok12 thank you very much, order 2024 was fine") == "ok12 thank you very much, order 2024 was fine"
    assert (mask_address("+358401234567"), mask_address("jukka@example.fi")) == ("+358 *** 67", "j***@example.fi")


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), datetime(2026, 2, 28, 9, 0, tzinfo=UTC)),
    (datetime(2028, 1, 31, 9, 0, tzinfo=UTC), datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),
    (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), datetime(2027, 1, 15, 9, 0, tzinfo=UTC)),
])
def test_the_legal_month_ends_on_the_same_day_of_the_next_month_or_its_last_day(received, due):
    rules = PrivacyPolicy()
    assert rules.answer_due(received) == due
    assert received < rules.escalation_at(received) < rules.answer_by(received) < due


def _case(status: str = "open", owner: str = "aino.agent", assigned_by: str | None = None) -> CaseRow:
    return CaseRow(id="case-1", reference="X", tenant="acme", integrator="i", external_id="e", kind="overcharge",
                   source="till", status=status, step="contact", owner=owner, assigned_by=assigned_by,
                   customer_name="Maija", opened_at=datetime.now(UTC))


def _person(name: str, *scopes: Scope, kind: PrincipalKind = PrincipalKind.person) -> Principal:
    return Principal(id=name, kind=kind, tenant="acme", scopes=frozenset(scopes))


def test_only_the_owner_or_a_supervisor_of_an_open_case_may_reveal():
    owner = _person("aino.agent", Scope.cases_read, Scope.cases_act)
    clerk = _person("ville.clerk", Scope.cases_read, Scope.cases_act)
    supervisor = _person("sari", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    assert may_reveal(owner, _case()) and may_reveal(supervisor, _case())
    assert may_reveal(owner, _case(assigned_by="sari")), "a supervisor handed the case over"
    assert not may_reveal(owner, _case(assigned_by="aino.agent")), "a case one took oneself is no reason"
    assert not may_reveal(owner, _case(assigned_by="i")), "nor one whose integrator (`i`) named its owner"
    assert not may_reveal(clerk, _case()), "someone else's case is no reason"
    assert not may_reveal(owner, _case(status="closed")), "a closed case is no reason"
    assert not may_reveal(_person("aino.agent", Scope.cases_read), _case()), "reading alone is not acting"
    till = _person("till-1", Scope.cases_read, kind=PrincipalKind.integrator)
    assert not may_reveal(till, _case(owner="till-1")), "an integrator is never an owner who may read"
    assert [role_of(p) for p in (owner, supervisor, till, _person("dpo", Scope.privacy))] == [
        AccessRole.agent, AccessRole.supervisor, AccessRole.integrated_system, AccessRole.administrator]


@pytest.mark.parametrize("written", ["040 1234567", "040-123 4567", "0401234567", "(09) 123 4567", "050 111 2267",
                                     "+358 40 123 4567", "+358401234567"])
def test_a_phone_number_written_the_national_way_is_masked_too(written):
    """What a customer types into a topic or a reply, as they write their number at home (the review's minor)."""
    masked = mask_text(f"Soittakaa minulle numeroon {written} kiitos")
    assert masked.startswith("Soittakaa minulle numeroon +358 *** ") and masked.endswith(" kiitos"), masked
    assert written not in masked and written.replace(" ", "")[-5:] not in masked.replace(" ", "")


def test_amounts_dates_codes_and_references_are_no_phone_numbers():
    text = "Palautimme 1 234 567,89 € (€1,234,567.89) 7.12.2027 klo 12.00, koodi 123456, viite 3F9A1C07, 98 765 432"
    assert mask_text(text) == text


@pytest.mark.parametrize("text", ["Auki klo 09.00-16.00", "open 08.00 - 20.00", "pick up at 08 12 2027",
                                  "varaus 0304 5567", "1 234 567,89 €", "kello 10:30 0401"])
def test_times_dates_codes_and_amounts_are_not_masked_as_phone_numbers(text):
    assert mask_text(text) == text


def test_two_numbers_side_by_side_are_each_masked():
    assert mask_text("soita 040 123 4567 050 765 4321") == "soita +358 *** 67 +358 *** 21"
    assert mask_text("0401234567 0451234568, (09) 123 4567") == "+358 *** 67 +358 *** 68, +358 *** 67"


def test_a_long_text_is_masked_number_by_number():
    """A 20,000-character reply: each number in it masked, the rest left as written (found by a linear pattern,
    each candidate checked on its own)."""
    text = "Lorem ipsum 040 123 4567 klo 09.00-16.00. " * 480
    masked = mask_text(text)
    assert masked.count("+358 *** 67") == 480 and "040 123 4567" not in masked and masked.count("09.00-16.00") == 480
