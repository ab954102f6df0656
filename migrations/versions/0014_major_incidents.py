"""Major incidents (issue 16): the parent and its affected customers, and when a till made each sale (the
incident's window is read on it), indexed per tenant and store.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('major_incident_customers',
    sa.Column('major_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('store', sa.String(length=200), nullable=False),
    sa.Column('transaction_ref', sa.String(length=200), nullable=False),
    sa.Column('customer', sa.JSON(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('major_id', 'seq')
    )
    with op.batch_alter_table('major_incident_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_incident_customers_case_id'), ['case_id'], unique=False)

    op.create_table('major_incidents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recovery', sa.String(length=40), nullable=False),
    sa.Column('declaration', sa.JSON(), nullable=False),
    sa.Column('declared_by', sa.String(length=200), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('cap_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('rejected', sa.JSON(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_incidents_tenant'), ['tenant'], unique=False)

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sold_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_transactions_tenant_store_sold', ['tenant', 'store', 'sold_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_transactions_tenant_store_sold')
        batch_op.drop_column('sold_at')
        batch_op.drop_column('customer')

    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_incidents_tenant'))

    op.drop_table('major_incidents')
    with op.batch_alter_table('major_incident_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_incident_customers_case_id'))

    op.drop_table('major_incident_customers')
