"""The customer directory filled by its company (issue 13): each row carries the company's own key of the customer
(`customer_key`, unique per tenant: imports and single-record routes upsert on it) and when it last changed.

Rows from before (only tests filled the table) get the key `legacy-<row id>`, which an administrator may replace by
deleting the row and importing it with its real key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_directory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE customer_directory SET customer_key = 'legacy-' || CAST(id AS VARCHAR(20)), "
               "updated_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table('customer_directory', schema=None) as batch_op:
        batch_op.alter_column('customer_key', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_unique_constraint('uq_directory_customer_key', ['tenant', 'customer_key'])


def downgrade() -> None:
    with op.batch_alter_table('customer_directory', schema=None) as batch_op:
        batch_op.drop_constraint('uq_directory_customer_key', type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('customer_key')
