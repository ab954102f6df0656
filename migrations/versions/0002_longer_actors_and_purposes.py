"""Longer timeline actors and access purposes: a reply's sender (an email address, up to 320 characters) is
the timeline line's actor; an export's access record prefixes the stated reason (up to 500) with its own words.
Both overflowed on PostgreSQL, which enforces VARCHAR lengths (SQLite does not). Downgrading fails on rows that
no longer fit, as it should.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.alter_column('purpose',
               existing_type=sa.VARCHAR(length=500),
               type_=sa.Text(),
               existing_nullable=False)

    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.alter_column('actor',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.String(length=320),
               existing_nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.alter_column('actor',
               existing_type=sa.String(length=320),
               type_=sa.VARCHAR(length=200),
               existing_nullable=False)

    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.alter_column('purpose',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=500),
               existing_nullable=False)

