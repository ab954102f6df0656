"""What a recovery kind declares besides its story: the typed details an integrator sends with it, how its
customer is reached and how fast, when it follows up, and what its messages carry. One `KindSpec` per kind, in
`kinds/<kind>.py`; its workflow type is `WORKFLOW` in `workflows/<kind>.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel

from messages.dimensions import Dimension
from schemas.channels import Channel
from schemas.sla import Priority, SlaTargets


class NoDetails(BaseModel):
    """A kind that needs nothing beyond the incident's common fields."""


@dataclass(frozen=True)
class KindSpec:
    name: str  # the `kind` integrators post, the templates' folder and the history's name
    details: type[BaseModel]  # validated at intake (422 naming the field), in OpenAPI, `details.<field>` in templates
    example: BaseModel  # an instance of `details`: the OpenAPI example and the template test's sample facts
    contact_order: list[Channel]  # the channels tried, in order (`ContactPolicy.order`)
    follow_up_delay: timedelta  # from the remedy to the follow-up question (`RecoveryPolicy.follow_up_delays`)
    sla: dict[Priority, SlaTargets] = field(default_factory=dict)  # none: no SLA clock (`SlaPolicy.targets`)
    messages: dict[str, frozenset[Dimension]] = field(default_factory=dict)  # template -> what it carries
    closing_messages: frozenset[str] = frozenset()  # templates after which the case closes: they invite no reply
    # The kind's name on the console's pages, per language the console speaks ("fi", "sv"); English is the name
    # itself with spaces ("stock shortfall"). tests/test_console_languages.py fails on a language left out.
    labels: dict[str, str] = field(default_factory=dict)
