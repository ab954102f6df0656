"""S7's figures: for each major incident, how long from its declaration to the last customer reached, and the
share of its child cases that reached their customer and that refunded them (of the children opened: a customer
linked to a case they already had is counted there, one held over the cap is a person's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, select

from schemas.metrics import MajorIncidentFigures
from store.major_incidents import progress_of
from store.tables import MajorIncidentRow


def major_incident_figures(session: Session, tenant: str, declared_by: str | None = None,
                           declared_from: datetime | None = None,
                           declared_to: datetime | None = None) -> list[MajorIncidentFigures]:
    """The tenant's incidents (an integrator's key: those it declared), declared in the period when given."""
    query = select(MajorIncidentRow).where(MajorIncidentRow.tenant == tenant)
    if declared_by is not None:
        query = query.where(MajorIncidentRow.declared_by == declared_by)
    if declared_from is not None:
        query = query.where(MajorIncidentRow.declared_at >= declared_from)
    if declared_to is not None:
        query = query.where(MajorIncidentRow.declared_at < declared_to)
    return [_figures(session, row) for row in session.exec(query.order_by(MajorIncidentRow.declared_at)).all()]


def _figures(session: Session, row: MajorIncidentRow) -> MajorIncidentFigures:
    progress, last_reached = progress_of(session, row.id)
    opened = progress.opened or 1  # no child yet: both shares are 0
    to_last = (last_reached - row.declared_at).total_seconds() if last_reached is not None else None
    return MajorIncidentFigures(id=row.id, title=row.title, status=row.status, declared_at=row.declared_at,
                                affected=progress.affected, opened=progress.opened,
                                reached_share=progress.reached / opened, refunded_share=progress.refunded / opened,
                                seconds_to_last_reached=to_last)


def major_incident_families(figures: list[MajorIncidentFigures]) -> Iterator[Metric]:
    families = {
        "affected": GaugeMetricFamily("recovery_major_incident_affected", "Customers a major incident affects.",
                                      labels=["major_incident"]),
        "reached_share": GaugeMetricFamily("recovery_major_incident_reached_share", "Share of a major incident's "
                                           "child cases that reached their customer.", labels=["major_incident"]),
        "refunded_share": GaugeMetricFamily("recovery_major_incident_refunded_share", "Share of a major incident's "
                                            "child cases that refunded their customer.", labels=["major_incident"]),
        "seconds_to_last_reached": GaugeMetricFamily(
            "recovery_major_incident_seconds_to_last_reached", "Seconds from a major incident's declaration to the "
            "last customer its children reached (so far).", labels=["major_incident"]),
    }
    for one in figures:
        for name, family in families.items():
            if (value := getattr(one, name)) is not None:
                family.add_metric([one.id], value)
    yield from families.values()
