"""Personal reply: a person answers the customer in their own words, before the first-reply promise breaks (the
SLA watch escalates meanwhile). Staff reach it with `POST /cases/{id}/responses`, which signals `personal_reply`."""

from __future__ import annotations

from temporalio import workflow

from workflows.capability import Capability

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.messages import MessageFacts
    from schemas.progress import CaseStatus, CaseStep
    from schemas.steps import PersonalReply, StaffAction

PERSONAL_REPLY_DELIVERED_PATCH = "personal-reply-met-only-when-delivered"


class PersonalReplies(Capability):
    grants = StaffAction.personal_reply

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._personal_replies: list[PersonalReply] = []
        self._reply_text: str | None = None

    @workflow.signal
    def personal_reply(self, reply: PersonalReply) -> None:
        self._personal_replies.append(reply)

    async def await_personal_reply(self, template: str = "common/personal_reply") -> PersonalReply:
        """Waits for an agent's personal reply (`POST /cases/{id}/responses`; the SLA watch escalates meanwhile) and
        sends it as written, in `template` (its `reply_text`), which a type may give its own subject and framing.
        The first-reply promise is met only when it reaches the customer; if no channel does, its owner takes it."""
        self.set_step(CaseStep.personal_reply, CaseStatus.open)
        await workflow.wait_condition(lambda: bool(self._personal_replies))
        reply = self._personal_replies.pop(0)
        self._reply_text = reply.text
        if not workflow.patched(PERSONAL_REPLY_DELIVERED_PATCH):  # cases from before: met first, sent as it went
            self.meet_promise("first_reply")
            await self.tell_customer(template, CaseStep.personal_reply)
            return reply
        if await self.tell_customer(template, CaseStep.personal_reply):
            self.meet_promise("first_reply")  # a reply that reached nobody keeps no promise
        else:
            await self.hand_to_owner("the personal reply reached no channel (why is on the timeline): please "
                                     "reach the customer yourself")
        return reply

    def facts(self) -> MessageFacts:
        return super().facts().model_copy(update={"reply_text": self._reply_text})
