"""Outside systems (payment service providers, SMS/voice/email carriers), each behind a small interface.

The sandbox implementations are the default: they behave like the real thing (idempotency, failures on
request) and record everything in the database, so a developer can see what a customer would have received.
"""
