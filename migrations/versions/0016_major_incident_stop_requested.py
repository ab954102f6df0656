"""When a close or cancel of a major incident was asked for (`stop_requested_at`): a fan-out step or a message to
all children in flight reads it at each slot and stops, rather than running on until the parent takes the stop.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stop_requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.drop_column('stop_requested_at')
