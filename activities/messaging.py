"""Send one message to a customer through the channel's carrier, and record it on the case."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from sqlmodel import col, delete, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from messages.render import TEMPLATE_ERROR, RenderedMessage, TemplateFailed, render
from privacy.masking import MASKED, mask_address, mask_text
from providers.messaging import Delivery, MessageRefused, MessageSender, RecipientRejected
from schemas.channels import Channel
from schemas.messages import CodeCheck, CodeMessage, DeliveryStatus, MessageFacts, MessageReceipt, OutboundMessage
from schemas.steps import ActivityName
from store.accounts import signed_by_owner
from store.cases import apply_progress
from store.consent import opted_out_channels
from store.db import session_for
from store.tables import CaseRow, DestinationCodeRow, MessageRow, utcnow

CODE_DIGITS = 6
_KEYED = "h1:"  # marks a keyed, account-bound code hash (the column holds 64 characters)
CODE_PATTERN = re.compile(rf"(?<!\d)(\d{{{CODE_DIGITS}}})(?!\d)")


class MessagingActivities:
    def __init__(self, database_url: str, senders: Mapping[Channel, MessageSender], code_key: bytes) -> None:
        self._database_url = database_url
        self._senders = senders
        self._code_key = code_key  # the server secret one-time codes are kept under (Settings.code_key)

    @activity.defn(name=ActivityName.send_message)
    def send_message(self, message: OutboundMessage) -> MessageReceipt:
        already = self._recorded(message.idempotency_key)
        if already is not None:
            return already
        return self._send(message, message.facts)

    @activity.defn(name=ActivityName.send_destination_code)
    def send_destination_code(self, message: CodeMessage) -> MessageReceipt:
        """Texts a one-time code to the number on file, for the customer to echo back before we pay an account
        that arrived over a channel whose sender we cannot authenticate; the text names the account (masked). The
        code is made here, never in the workflow (so it is in no history); only its HMAC under the server's secret,
        bound to the case and the account, is kept, and the case's copy of the text hides it."""
        already = self._recorded(message.idempotency_key)
        if already is not None:
            return already
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        with session_for(self._database_url) as session:
            session.exec(delete(DestinationCodeRow).where(col(DestinationCodeRow.case_id) == message.case_id))
            session.add(DestinationCodeRow(case_id=message.case_id,
                                           code_hash=self._code_hash(message.case_id, message.iban, code)))
            session.commit()
        return self._send(message, message.facts.model_copy(update={"confirmation_code": code}), hide=code)

    @activity.defn(name=ActivityName.check_destination_code)
    def check_destination_code(self, check: CodeCheck) -> bool:
        """True once, for the case's live code and the account it was texted for; a used code proves nothing
        again."""
        typed = CODE_PATTERN.search(check.text)
        if typed is None:
            return False
        with session_for(self._database_url) as session:
            row = session.exec(select(DestinationCodeRow).where(DestinationCodeRow.case_id == check.case_id)).first()
            if row is None or not hmac.compare_digest(row.code_hash,
                                                      self._code_hash(check.case_id, check.iban, typed.group(1),
                                                                      legacy=not row.code_hash.startswith(_KEYED))):
                return False
            session.delete(row)
            session.commit()
            return True

    def _code_hash(self, case_id: str, iban: str | None, code: str, legacy: bool = False) -> str:
        """HMAC-SHA256 under the server's secret of (case, account, code). `legacy`: a code texted before codes
        were keyed and bound (plain SHA-256 of case and code), checked as it was made while it lives."""
        if legacy:
            return hashlib.sha256(f"{case_id}:{code}".encode()).hexdigest()
        bound = f"{case_id}\x00{iban or ''}\x00{code}".encode()
        return _KEYED + hmac.new(self._code_key, bound, hashlib.sha256).hexdigest()[:64 - len(_KEYED)]

    def _send(self, message: OutboundMessage, facts: MessageFacts, hide: str | None = None) -> MessageReceipt:
        sender = self._senders.get(message.channel)
        if sender is None:
            raise ApplicationError(f"no carrier configured for {message.channel}", non_retryable=True)
        with session_for(self._database_url) as session:
            tenant = session.get(CaseRow, message.case_id).tenant  # a STOP, like an account, holds in its tenant
            stopped = message.channel in opted_out_channels(session, tenant, message.to, None)
            facts = signed_by_owner(session, tenant, facts)
        try:
            rendered = render(message.template, message.language, message.channel, facts)
        except TemplateFailed as failed:  # retrying cannot help; the workflow puts the message on the timeline
            raise ApplicationError(str(failed), type=TEMPLATE_ERROR, non_retryable=True) from None
        delivery = _OPTED_OUT if stopped else _sent(sender, message, rendered)
        with session_for(self._database_url) as session:
            row = MessageRow(case_id=message.case_id, idempotency_key=message.idempotency_key, direction="out",
                             channel=message.channel, to_address=message.to,
                             body=rendered.body.replace(hide, "•" * len(hide)) if hide else rendered.body,
                             status=delivery.status, provider=sender.name, provider_ref=delivery.provider_ref)
            session.add(row)
            progress = message.progress.model_copy(update={"note": f"{message.progress.note}: {delivery.status}"})
            reached = {"first_contact_at": utcnow()} if delivery.status.reached else {}
            apply_progress(session, progress, entry_key=message.idempotency_key, **reached)
            session.commit()
            return _receipt(row)

    def _recorded(self, idempotency_key: str) -> MessageReceipt | None:
        with session_for(self._database_url) as session:
            row = session.exec(select(MessageRow).where(MessageRow.idempotency_key == idempotency_key)).first()
            return _receipt(row) if row else None


# The consent store has the last word: a STOP that came after the case was opened (its workflow still starting,
# or not yet signalled) is honoured at the send, by the one opt-out rule the store keeps.
_OPTED_OUT = Delivery(provider_ref="not sent: the customer opted out of this channel", status=DeliveryStatus.rejected)


def _sent(sender: MessageSender, message: OutboundMessage, rendered: RenderedMessage) -> Delivery:
    try:
        return sender.send(message.idempotency_key, message.to, rendered.subject, rendered.body)
    except RecipientRejected as rejected:
        # A permanent refusal is an outcome for the contact plan to act on (next channel), not an error.
        return Delivery(provider_ref=f"rejected: {_without_address(str(rejected), message.to)}"[:200],
                        status=DeliveryStatus.rejected)
    except MessageRefused as refused:
        return Delivery(provider_ref=f"refused: {_without_address(str(refused), message.to)}"[:200],
                        status=DeliveryStatus.failed)
    except Exception as error:  # noqa: BLE001  (retried by Temporal, which stores the text: no address in it)
        raise ApplicationError(_without_address(str(error), message.to), type=type(error).__name__) from None


def _without_address(text: str, address: str) -> str:
    """A carrier's error text with the customer's address masked: Temporal keeps failures in the history."""
    return mask_text(text.replace(address, mask_address(address) or MASKED))


def _receipt(row: MessageRow) -> MessageReceipt:
    return MessageReceipt(message_id=row.id, status=row.status, provider=row.provider, provider_ref=row.provider_ref)
