"""SLA compliance for the metrics: the one place to fill in once case rows record SLA deadlines.

The SLA clock exists (`sla/clock.py`), but the read model does not yet keep a case's deadline or whether it
broke it (planned: `reply_due_at` / `sla_state` on CaseRow). Until it does, these functions answer "not
tracked", and the metrics say so (`sla: null` in the summary, `recovery_sla_tracked 0` in Prometheus) rather
than report a perfect compliance nobody measured. When the columns land, only these two bodies change.
"""

from __future__ import annotations

from sqlmodel import Session

from metrics.read_model import CaseScope, GroupKey
from schemas.metrics import SlaCompliance


def sla_compliance_by_group(session: Session, scope: CaseScope) -> dict[GroupKey, SlaCompliance]:
    """Compliance per summary group (see `metrics.summary`); a group missing from the answer shows `sla: null`.

    Empty for now: no case row has a deadline to comply with.
    """
    return {}


def sla_breaches_by_kind_and_source(session: Session, scope: CaseScope) -> dict[tuple[str, str], int] | None:
    """Cases that broke their SLA, per (kind, source); None while breaches are not tracked at all."""
    return None
