"""The refund ledger per money event (issue 9): refunds gain their money event (unique), route, who and which
reference confirmed a hand payment, and when the money moved; provider fields may be empty while a refund is
reserved or paid by hand. Money events (which case owns one), one-time codes that prove a bank account, the case
a second report is linked to. (Till records per tenant came with the tenants, in 0007; the money event's key
names the tenant, so one tenant's report never pays or links against another's.)

Refunds made before the ledger are their own case's money event (`case:<case id>`), which is also what today's
code uses for a case opened before it, so a refund in flight across the upgrade keeps its key and its row.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('destination_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    op.create_table('money_events',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_to', sa.String(length=64), nullable=True))

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('money_event', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('route', sa.String(length=16), nullable=False, server_default='provider'))
        batch_op.add_column(sa.Column('recorded_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('reference', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('provider', existing_type=sa.VARCHAR(length=40), nullable=True)
        batch_op.alter_column('provider_ref', existing_type=sa.VARCHAR(length=200), nullable=True)
    # Every refund before the ledger moved money (rows were written after the provider paid).
    op.execute("UPDATE refunds SET money_event = 'case:' || case_id, settled_at = created_at")
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.alter_column('money_event', existing_type=sa.String(length=300), nullable=False)
        batch_op.create_unique_constraint('uq_refunds_money_event', ['money_event'])


def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint('uq_refunds_money_event', type_='unique')
        batch_op.alter_column('provider_ref', existing_type=sa.VARCHAR(length=200), nullable=False)
        batch_op.alter_column('provider', existing_type=sa.VARCHAR(length=40), nullable=False)
        batch_op.drop_column('settled_at')
        batch_op.drop_column('reference')
        batch_op.drop_column('recorded_by')
        batch_op.drop_column('route')
        batch_op.drop_column('money_event')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('linked_to')

    op.drop_table('money_events')
    op.drop_table('destination_codes')
