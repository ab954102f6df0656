"""Failed starts of a kept input, counted on the case (`start_attempts`, `start_error`, `start_retry_at`), so the
reconciler tries such a case again later instead of holding it at the head of its queue, and an operator sees it
(intake/reconciler.py). Existing cases start at 0 attempts.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('start_error', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('start_retry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('start_retry_at')
        batch_op.drop_column('start_error')
        batch_op.drop_column('start_attempts')
