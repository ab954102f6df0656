"""stock_shortfall: the customer came for a product the store did not have (the pharmacy's dog painkiller,
seeds/004). Putting it right is not money: staff find where nearby it is available, and the customer is told
where to pick it up, the same day."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from kinds.spec import KindSpec
from messages.dimensions import Dimension
from schemas.channels import Channel
from schemas.inputs import SingleLine
from schemas.sla import Priority, SlaTargets


class StockShortfallDetails(BaseModel):
    """What the store tells about the product it did not have (validated at intake, shown in OpenAPI)."""

    model_config = ConfigDict(extra="forbid")

    product: SingleLine = Field(description="The product as the customer asked for it, named in every message.")


KIND = KindSpec(
    name="stock_shortfall",
    labels={"fi": "tuote loppu", "sv": "slut i lager"},
    details=StockShortfallDetails,
    example=StockShortfallDetails(product="Rimadyl 50 mg, 14 tablets"),
    # A text first: the customer is on the move between stores. A call if no text reaches them; email last.
    contact_order=[Channel.sms, Channel.voice, Channel.email],
    # The customer picks it up the same day: asked the next day how it went, not after the default three days.
    follow_up_delay=timedelta(days=1),
    # Finding it (a phone call to the neighbouring store) is the personal reply: within two business hours.
    sla={Priority.normal: SlaTargets(first_reply=timedelta(hours=2), resolution=timedelta(hours=8)),
         Priority.high: SlaTargets(first_reply=timedelta(hours=1), resolution=timedelta(hours=4))},
    messages={
        # Sorry, it was not in stock; we are finding it and will reply by the promise's deadline.
        "looking": frozenset({Dimension.apology, Dimension.error, Dimension.remedy, Dimension.remedy_time,
                              Dimension.next_step, Dimension.owner, Dimension.reach}),
        # Where to pick it up: the staff member's own words, held to the personal-reply rules at the API.
        "pick_up": frozenset(),
    },
)
