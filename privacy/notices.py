"""Telling the data protection officer of a refused read, by email from the API process.

The flagged access record is the durable fact (committed before this is sent); the email is the nudge. A mail
failure is logged and does not turn the refusal into an error: the DPO also finds every flagged record at
`GET /customers/access-records?flagged=true`.
"""

from __future__ import annotations

import logging

from providers.messaging import MessageSender
from store.tables import AccessRecordRow

log = logging.getLogger(__name__)


def tell_dpo_of_refusal(sender: MessageSender, dpo_address: str, record: AccessRecordRow, reason: str) -> None:
    """Names the reader, the case and the fields, never the customer's data itself."""
    subject = f"Refused read of personal data by {record.actor}"
    body = (f"At {record.at:%Y-%m-%d %H:%M} UTC {record.actor} ({record.role}) asked for the "
            f"{', '.join(record.fields)} of the customer of case {record.case_id}, stating: {record.purpose!r}.\n"
            f"Refused and flagged as access record {record.id}: {reason}.\n"
            "All flagged reads: GET /customers/access-records?flagged=true")
    try:
        sender.send(f"access:{record.id}:dpo", dpo_address, subject, body)
    except Exception:  # noqa: BLE001  (the flagged record stands; see the module docstring)
        log.exception("could not tell the data protection officer of access record %s", record.id)
