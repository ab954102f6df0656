"""How we talk to a customer: the channel, and the language."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    sms = "sms"
    voice = "voice"
    email = "email"
    agent = "agent"  # an agent recording what the customer said on the phone

    @property
    def quiet_at_night(self) -> bool:
        """Texts and calls wait for morning; an email does not wake anyone."""
        return self in (Channel.sms, Channel.voice)


class Language(StrEnum):
    fi = "fi"
    sv = "sv"
    en = "en"


# A STOP to our texts also stops our calls to that number: the customer asked us to leave them alone. The one
# opt-out rule, used by the consent store (every later case) and by the workflows (the cases open now).
_STOPPED_TOGETHER = {Channel.sms: (Channel.sms, Channel.voice)}


def stopped_by(channel: Channel) -> tuple[Channel, ...]:
    """The channels a STOP received on `channel` stops."""
    return _STOPPED_TOGETHER.get(channel, (channel,))
