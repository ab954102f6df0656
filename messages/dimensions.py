"""The service-recovery dimensions a message carries (see `messages/quality.py`, which checks them)."""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    apology = "apology"  # we say sorry, in so many words, for a failure that is ours
    error = "error"  # what went wrong, named (too much, twice, too little, the customer's topic)
    remedy = "remedy"  # what we do about it: the money back, a reply, goodwill
    remedy_time = "remedy_time"  # when the remedy arrives
    next_step = "next_step"  # what the customer can do now (answer 1 or 2, press 1) or who contacts them next
    destination = "destination"  # where the money went: the destination the customer chose, and only that
    owner = "owner"  # the accountable person by name (or customer service, while the case has no owner)
    reach = "reach"  # a way to reach them or the case: the case reference, and how to answer
