"""The read model's order: `cases.progress_seq` holds the sequence of the newest workflow write applied, so a write
that finishes late (an older sequence) moves no status back (store/cases.py: apply_progress). Cases that exist
already start at 0, which every write of a running workflow passes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_seq', sa.Integer(), nullable=False, server_default=sa.text('0')))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('progress_seq')
