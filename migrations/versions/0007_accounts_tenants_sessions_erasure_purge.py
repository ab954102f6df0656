"""Staff accounts and their sign-in sessions; a tenant on every tenant's row; who reassigned a case last; the
mail gateway's verdict on an inbound email; when an erasure's purge finished (issue 11).

Rows from before tenants belong to the one tenant `default`, the tenant each key of theirs is given too. The
column keeps that default in the database (our code always names the tenant): during a rolling upgrade the
previous release's processes still insert rows without one. Each
person's key of before gets a staff account of its principal's name (roles from its scopes: `admin` held every
scope then, so every role now), so that the keys people hold keep working; their email is a placeholder under
`.invalid` for an administrator to correct. Till records, opt-outs and external ids become unique per tenant.

Webhook endpoints and events named the integrator in their `tenant` (an endpoint of a staff tool: none, hearing
every case). The integrator moves to their new `integrator` column (an integrator's endpoint hears the cases it
opened), and `tenant` becomes the tenant of that integrator's key (of the event's case), else `default`, so the
endpoints of before keep hearing their cases and their owners can still manage them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:55:03.581821
"""

import json

import sqlalchemy as sa
from alembic import op

DEFAULT_TENANT = "default"

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_accounts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_accounts_tenant'), ['tenant'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.create_index(batch_op.f('ix_access_records_tenant'), ['tenant'], unique=False)

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.add_column(sa.Column('assigned_by', sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_case_external_id'), type_='unique')
        batch_op.create_unique_constraint('uq_case_external_id', ['tenant', 'integrator', 'external_id'])

    with op.batch_alter_table('contact_opt_outs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.drop_constraint(batch_op.f('uq_opt_out'), type_='unique')
        batch_op.create_unique_constraint('uq_opt_out', ['tenant', 'address', 'channel'])

    with op.batch_alter_table('customer_directory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.create_index(batch_op.f('ix_customer_directory_tenant'), ['tenant'], unique=False)

    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sender_auth', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_tenant'), ['tenant'], unique=False)

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant', sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TENANT))
        batch_op.drop_constraint(batch_op.f('uq_store_transaction'), type_='unique')
        batch_op.create_unique_constraint('uq_tenant_store_transaction', ['tenant', 'store', 'transaction_id'])

    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('integrator', sa.String(length=200), nullable=True))

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('integrator', sa.String(length=200), nullable=True))

    _accounts_for_people_with_keys()
    _webhooks_of_tenants()


def _webhooks_of_tenants() -> None:
    """What named an integrator in `tenant` names it in `integrator`; `tenant` becomes the tenant of its key (of
    its case, for an event)."""
    connection = op.get_bind()
    key_tenant = ("(SELECT MIN(k.tenant) FROM api_keys k WHERE k.principal = webhook_endpoints.tenant "
                  "AND k.kind = 'integrator')")
    connection.execute(sa.text(
        f"UPDATE webhook_endpoints SET integrator = tenant, tenant = COALESCE({key_tenant}, :default) "
        "WHERE tenant IS NOT NULL"), {"default": DEFAULT_TENANT})
    connection.execute(sa.text("UPDATE webhook_endpoints SET tenant = :default WHERE tenant IS NULL"),
                       {"default": DEFAULT_TENANT})
    case_tenant = "(SELECT c.tenant FROM cases c WHERE c.id = webhook_events.case_id)"
    connection.execute(sa.text(
        f"UPDATE webhook_events SET integrator = tenant, tenant = COALESCE({case_tenant}, :default)"),
        {"default": DEFAULT_TENANT})


def _accounts_for_people_with_keys() -> None:
    connection = op.get_bind()
    people = connection.execute(sa.text("SELECT principal, scopes FROM api_keys WHERE kind = 'person'"))
    roles_of: dict[str, set[str]] = {}
    for principal, scopes in people:
        if len(principal) > 64:
            continue  # longer than an account id may be: the key stops working, the operator makes an account
        held = set(json.loads(scopes) if isinstance(scopes, str) else scopes)
        roles = ({"agent", "supervisor", "admin", "dpo"} if "admin" in held
                 else {"supervisor"} if "cases:approve" in held else {"agent"})
        roles_of.setdefault(principal, set()).update(roles)
    accounts = sa.table("staff_accounts", sa.column("id"), sa.column("tenant"), sa.column("display_name"),
                        sa.column("email"), sa.column("roles", sa.JSON), sa.column("created_at"))
    created = sa.func.current_timestamp()
    for principal, roles in sorted(roles_of.items()):
        connection.execute(accounts.insert().values(
            id=principal, tenant=DEFAULT_TENANT, display_name=principal, email=f"{principal}@migrated.invalid",
            roles=sorted(roles), created_at=created))


def downgrade() -> None:
    """Tenants, accounts and sessions go: a database with more than one tenant's data cannot go back whole."""
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE webhook_endpoints SET tenant = integrator"))  # a staff tool's: NULL again
    connection.execute(sa.text("UPDATE webhook_events SET tenant = COALESCE(integrator, tenant)"))
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_column('integrator')

    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_column('integrator')

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tenant_store_transaction', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_store_transaction'), ['store', 'transaction_id'])
        batch_op.drop_column('tenant')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_tenant'))
        batch_op.drop_column('sender_auth')
        batch_op.drop_column('tenant')

    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('tenant')

    with op.batch_alter_table('customer_directory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_directory_tenant'))
        batch_op.drop_column('tenant')

    with op.batch_alter_table('contact_opt_outs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_opt_out', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_opt_out'), ['address', 'channel'])
        batch_op.drop_column('tenant')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_external_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_case_external_id'), ['integrator', 'external_id'])
        batch_op.drop_column('assigned_by')
        batch_op.drop_column('tenant')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('tenant')

    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_records_tenant'))
        batch_op.drop_column('tenant')

    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_account_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_accounts_tenant'))

    op.drop_table('staff_accounts')
