"""Money events per sale, backfilled (review of issue 9, findings 4 and 9).

A sale's money event is now tenant + store (case-folded, spaces collapsed) + transaction reference, whatever the
report calls it (overcharge, the same sale bought twice, a complaint asking for its loss); it was the raw store and
the kind. Cases opened before the ledger (0008) had no money event at all. So a report of a sale after this deploy
must still find the case that already handles that sale: every sale that open or past cases name gets its new key,
owned by the earliest case that reported it and was not itself linked (a complaint only once it was refunded: one
that never pays must not swallow a later overcharge). Keys already claimed stay as they are. No schema change.

The key is computed here with a frozen copy of `schemas.refunds.sale_event_key`: a migration must not change
when the code it once ran with does.

Revision ID: 0010
Revises: 0009
"""

import hashlib
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_CASES = sa.text("""
    SELECT c.id, c.tenant, c.kind, c.store, c.transaction_ref
    FROM cases c
    WHERE c.store IS NOT NULL AND c.transaction_ref IS NOT NULL AND c.linked_to IS NULL
      AND (c.kind IN ('overcharge', 'duplicate_purchase', 'undercharge')
           OR (c.kind = 'complaint' AND EXISTS (SELECT 1 FROM refunds r WHERE r.case_id = c.id
                                                 AND r.status IN ('paid', 'awaiting_pickup'))))
    ORDER BY c.opened_at, c.id
""")


def _sale_key(tenant: str, store: str, transaction_ref: str) -> str:
    normal = " ".join(unicodedata.normalize("NFKC", store).casefold().split())
    sale = hashlib.sha256(f"{tenant}\x00{normal}\x00{transaction_ref.strip()}".encode()).hexdigest()
    return f"sale:{sale[:40]}"


def upgrade() -> None:
    bind = op.get_bind()
    owners: dict[str, str] = {}
    for case_id, tenant, kind, store, transaction_ref in bind.execute(_CASES):
        key = _sale_key(tenant, store, transaction_ref) + (":undercharge" if kind == "undercharge" else "")
        owners.setdefault(key, case_id)  # the earliest report owns the sale
    claimed = {key for (key,) in bind.execute(sa.text("SELECT key FROM money_events"))}
    rows = [{"key": key, "case_id": case_id, "created_at": datetime.now(UTC)}
            for key, case_id in owners.items() if key not in claimed]
    if rows:
        bind.execute(sa.text("INSERT INTO money_events (key, case_id, created_at) VALUES (:key, :case_id, "
                             ":created_at)"), rows)


def downgrade() -> None:
    """The rows stay: they only name which case handles a sale, and older code ignores keys it does not make."""
