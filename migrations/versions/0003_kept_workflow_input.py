"""The workflow input a case keeps until its workflow runs (`cases.start_payload`, sealed like a Temporal
payload), and a partial index on the few cases that hold one, for the reconciler's scan (intake/reconciler.py).
Cases opened before this revision keep none: their workflows were started by intake as it was (a re-post still
starts a missing one).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

PENDING = {f"{dialect}_where": sa.text("start_payload IS NOT NULL") for dialect in ("sqlite", "postgresql")}


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_payload', sa.LargeBinary(), nullable=True))
        batch_op.create_index('ix_cases_start_pending', ['opened_at'], unique=False, **PENDING)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_start_pending', **PENDING)
        batch_op.drop_column('start_payload')
