"""Who to try, on which channel, in which order, and when it is too late in the evening to text or call.

Pure functions of the case and its policy, so the workflow stays deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.channels import Channel
    from schemas.incidents import Customer, IncidentKind
    from schemas.phones import PhoneType
    from schemas.policy import ContactPolicy


@dataclass(frozen=True)
class Attempt:
    channel: Channel
    address: str
    number: int  # 0 for the first attempt on this channel
    last_on_channel: bool


def channel_order(policy: ContactPolicy, kind: IncidentKind, customer: Customer,
                  call_landlines: bool = True) -> list[tuple[Channel, str]]:
    """The policy's order for this kind, with the customer's preferred channel first, where we have an address.
    A landline cannot take a text: it is called instead (in the text's place when the kind's order has no call),
    or the customer emailed."""
    order = policy.channels_for(kind)
    if call_landlines and customer.phone_type is PhoneType.landline and Channel.voice not in order:
        order = [Channel.voice if channel is Channel.sms else channel for channel in order]
    if customer.preferred_channel in order:
        order = [customer.preferred_channel, *(c for c in order if c != customer.preferred_channel)]
    texts = customer.phone if customer.phone_type is not PhoneType.landline else None
    addresses = {Channel.sms: texts, Channel.voice: customer.phone, Channel.email: customer.email}
    return [(channel, addresses[channel]) for channel in order if addresses.get(channel)]


def attempts(policy: ContactPolicy, plan: list[tuple[Channel, str]], opted_out: set[Channel]) -> Iterator[Attempt]:
    """Every attempt of the plan in order. Opt-outs are checked lazily: a STOP mid-plan takes effect at once."""
    for channel, address in plan:
        tries = max(1, policy.attempts.get(channel, 1))
        for number in range(tries):
            if channel in opted_out:
                break
            yield Attempt(channel, address, number, last_on_channel=number == tries - 1)


def quiet_hours_end(now: datetime, time_zone: str, policy: ContactPolicy) -> datetime | None:
    """When the customer's quiet hours end, if `now` falls within them; None if it is fine to text or call."""
    local = now.astimezone(ZoneInfo(time_zone))
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    clock = local.time()
    if start == end:
        return None  # no quiet hours
    in_quiet = (clock >= start or clock < end) if start > end else (start <= clock < end)
    if not in_quiet:
        return None
    wake_day = local.date() if clock < end else local.date() + timedelta(days=1)
    wake = datetime.combine(wake_day, end, tzinfo=ZoneInfo(time_zone))
    return wake.astimezone(now.tzinfo)
