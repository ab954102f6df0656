"""Contracts shared by the API, the workflows and the activities (pydantic models only, no I/O)."""
