"""Masking personal data in the views every reader gets.

Decision: the customer's *name* stays visible. Agents address the customer by it and recognise the case by it,
and the engine already holds it on every case and message; it is erased with the rest on request. Contact
details and bank accounts are what let someone reach the customer outside the case (S5: the clerk who called
the customer's employer), so they are masked by default and read in clear only through a reveal.
Masks keep just enough to tell two numbers apart on the phone: the country code and the last two digits.
"""

from __future__ import annotations

import re

from phonenumbers import NumberParseException, PhoneNumberFormat, format_number, is_valid_number, parse

from schemas.api import InboundMessageView
from schemas.cases import MessageView, TimelineEntryView
from schemas.phones import default_region

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# An IBAN in one piece or in groups of four, as customers write it; the account part is masked.
_IBAN = re.compile(r"\b([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
# A phone number in international form, possibly grouped ("+358 40 123 4567").
_PHONE = re.compile(r"\+[1-9](?:[ -]?[0-9]){6,14}")
# A national number's shape; never next to a digit, a "." or a ":" (a time, a decimal, a longer number).
_NATIONAL = re.compile(r"(?<![\w.:+,])\(?0\d{1,2}\)?[ -]?\d{3,4}[ -]?\d{2,4}(?!\d|[.:,]\d)")
MASKED = "***"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    return f"+{digits[:3]} {MASKED} {digits[-2:]}" if len(digits) > 5 else MASKED


def mask_email(email: str | None) -> str | None:
    return _EMAIL.sub(lambda match: f"{match.group(1)}{MASKED}@{match.group(2)}", email) if email else email


def mask_address(address: str | None) -> str | None:
    """A message's to/from address: a phone number or an email."""
    if address and "@" in address:
        return mask_email(address)
    return mask_phone(address)


def mask_text(text: str) -> str:
    """Contact details and bank accounts inside free text (a customer's reply, a carrier's note)."""
    text = _IBAN.sub(lambda match: f"{match.group(1).upper()}{MASKED}{match.group(0)[-2:]}", text)
    text = _EMAIL.sub(lambda match: f"{match.group(1)}{MASKED}@{match.group(2)}", text)
    return _national_numbers_masked(_PHONE.sub(lambda match: mask_phone(match.group(0)) or MASKED, text))


def _national_numbers_masked(text: str) -> str:
    """Numbers as people write them at home ("040 123 4567", "(09) 123 4567", "0401234567"), read the way intake
    reads a phone (`schemas.phones`: the tenant's region). A cheap, linear pattern finds what is shaped like one
    (area code of two or three digits, then groups of three or four and two to four), and only a candidate valid
    there is masked: an amount ("1 234 567,89 €"), a time ("klo 09.00-16.00"), a spaced date ("08 12 2027"), a
    code ("0304 5567") stays as it is, and two numbers side by side are each masked."""
    return _NATIONAL.sub(_masked_if_a_phone, text)


def _masked_if_a_phone(match: re.Match[str]) -> str:
    try:
        number = parse(match.group(0), default_region.get())
    except NumberParseException:
        return match.group(0)
    return (mask_phone(format_number(number, PhoneNumberFormat.E164)) or MASKED) if is_valid_number(number) \
        else match.group(0)


def masked_message(view: MessageView) -> MessageView:
    return view.model_copy(update={"to_address": mask_address(view.to_address), "body": mask_text(view.body)})


def masked_inbound(view: InboundMessageView) -> InboundMessageView:
    return view.model_copy(update={"from_address": mask_address(view.from_address), "body": mask_text(view.body)})


def masked_timeline(entry: TimelineEntryView) -> TimelineEntryView:
    """The actor of a customer's reply is their number or address; notes may quote them."""
    return entry.model_copy(update={"actor": mask_text(entry.actor), "note": mask_text(entry.note)})
