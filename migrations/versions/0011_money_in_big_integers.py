"""Amounts in minor units as 64-bit integers: the API accepts up to 10^12 minor units (`MAX_MINOR_UNITS`), and
PostgreSQL's INTEGER stops at 2^31 - 1, so a till record of 21,474,836.48 EUR or more was a 500 there (SQLite's
integers were always 64-bit; the change is a no-op there but for the declared type).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = {"cases": ["amount_minor"], "refunds": ["amount_minor"], "sandbox_ledger": ["amount_minor"],
           "compensations": ["amount_minor"], "transactions": ["correct_total_minor", "charged_minor"]}


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new)
