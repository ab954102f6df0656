"""How email leaves us: through the configured SMTP relay, else into the sandbox outbox. One choice for the
worker (customers, staff notices) and the API (notices to the data protection officer) alike."""

from __future__ import annotations

from providers.messaging import MessageSender
from providers.messaging.sandbox import SandboxSender
from providers.messaging.smtp import SmtpEmailSender
from schemas.channels import Channel
from settings import Settings


def email_sender(settings: Settings) -> MessageSender:
    if not settings.smtp_host:
        return SandboxSender(settings.database_url, Channel.email)
    return SmtpEmailSender(
        settings.smtp_host, settings.smtp_port, settings.smtp_from_address, username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls)
