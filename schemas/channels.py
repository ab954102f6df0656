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
