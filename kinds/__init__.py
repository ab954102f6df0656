"""Recovery kinds added with the scaffold (`python -m workflows.new <kind>`). Each is declared in `kinds/<kind>.py`
(its typed details, contact order, SLA targets, follow-up delay, messages) and told as a story in
`workflows/<kind>.py`; this list is the one line that switches a kind on. The kinds that came first
(overcharge ... data_misuse) are declared where they always were (`schemas/incidents.py`, `schemas/policy.py`).

Only names here: `schemas/incidents.py` builds `IncidentKind` from them, and the declarations (which use the
schemas) are imported when first asked for."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinds.spec import KindSpec

ADDED = (
    "stock_shortfall",
)


@cache
def added_kinds() -> tuple[KindSpec, ...]:
    return tuple(importlib.import_module(f"kinds.{name}").KIND for name in ADDED)


def added_kind(name: str) -> KindSpec | None:
    """The declaration of an added kind; None for a kind declared the older way (or none at all)."""
    return next((kind for kind in added_kinds() if kind.name == name), None)
