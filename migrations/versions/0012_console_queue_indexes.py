"""The console's queue (issue 14): a tenant's cases newest first, paged by keyset on (opened_at, id), and
filtered to one owner's or the unowned cases, each an index scan over 100,000 cases.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_tenant_opened', ['tenant', 'opened_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_tenant_owner_opened', ['tenant', 'owner', 'opened_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_tenant_owner_opened')
        batch_op.drop_index('ix_cases_tenant_opened')
