"""What a case's customer would receive next, rendered for staff with the recovery-quality check's verdict.

The facts are the workflow's own (its `message_facts` query) and the owner signs as at a send, so the preview is
the message the customer would get; contact details and bank accounts in it are masked as in every staff view."""

from __future__ import annotations

from messages.quality import DECLARED, check
from messages.render import TemplateFailed, render
from messages.sms import sms_segments
from privacy.masking import mask_text
from schemas.channels import Channel
from schemas.messages import MessagePreview, NextMessageFacts

# The one-time code is made at the send (never in a workflow's facts): the preview shows where it would go.
PREVIEW_CODE = "######"
PREVIEWED_CHANNELS = (Channel.sms, Channel.voice, Channel.email)


def unknown_template(template: str, kind: str) -> str | None:
    """Why `template` is no message a case of `kind` sends (None when it is one): templates are `common/...` or
    the case's own kind's."""
    if template not in DECLARED:
        return f"no template '{template}'"
    if template.split("/")[0] not in ("common", kind):
        return f"'{template}' is not a message of a {kind} case"
    return None


def preview(template: str, channel: Channel | None, next_message: NextMessageFacts) -> MessagePreview:
    """`channel`: as asked, else the one the contact plan would try first (a text when it has none)."""
    channel = channel or next(iter(next_message.channels), Channel.sms)
    language, facts = next_message.language, next_message.facts
    facts = facts.model_copy(update={"confirmation_code": facts.confirmation_code or PREVIEW_CODE})
    try:
        message = render(template, language, channel, facts)
    except TemplateFailed as failed:  # a fact the template needs that the case does not have yet: a failing verdict
        return MessagePreview(template=template, language=language, channel=channel, subject="", body="",
                              passes=False, problems=[mask_text(f"cannot be written yet: {failed}")],
                              sms_segments=None)
    problems = [mask_text(problem) for problem in check(template, language, channel, facts, message)]
    return MessagePreview(template=template, language=language, channel=channel, subject=mask_text(message.subject),
                          body=mask_text(message.body), passes=not problems, problems=problems,
                          sms_segments=sms_segments(message.body) if channel is Channel.sms else None)
