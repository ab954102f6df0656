"""Outbound webhooks to integrators (Standard Webhooks): where we may send, how a delivery is signed and sent,
and the relay from the outbox to the delivery workflows. See docs/design.md, "Webhooks out"."""
