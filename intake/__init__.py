"""Intake: turning a report (an incident, or a till record the engine checks itself) into exactly one case."""
