"""Keeping customers' personal data safe: payload encryption."""
