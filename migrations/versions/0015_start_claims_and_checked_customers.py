"""A reconciler's claim on a case it is starting (`start_claimed_until`): while it holds, nothing withdraws the
case (a major incident's cancel waits for the start and stops the workflow instead), and no other reconciler
starts it too. And whether a major incident's affected customer was checked against the sale the engine holds
(`against_record`): rows recorded before were taken as checked, as they were then. And an index on a sale's
cases (tenant, transaction): each child of a major incident looks for a case its sale already has.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_cases_tenant_transaction', ['tenant', 'transaction_ref'], unique=False)
    with op.batch_alter_table('major_incident_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('against_record', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('major_incident_customers', schema=None) as batch_op:
        batch_op.drop_column('against_record')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_tenant_transaction')
        batch_op.drop_column('start_claimed_until')
