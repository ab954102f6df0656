"""Staff accounts and API keys of the administrator's tenant (the operator's command line does the same for any
tenant: `python -m security.keys_cli`). Secrets are shown once, at creation; a disabled account's keys stop."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.auth import AdminDep
from api.deps import SessionDep
from api.errors import invalid_field
from schemas.auth import AccountIn, AccountView, ApiKeyView, KeyCreated, KeyIn
from store.accounts import AccountExists, create_account, disable_account, list_accounts
from store.api_keys import KeyRefused, UnknownAccount, create_key, list_keys, revoke_key

router = APIRouter(tags=["accounts"])


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=AccountView,
             responses={409: {"description": "An account with this id or email exists."}})
def new_account(account: AccountIn, session: SessionDep, admin: AdminDep) -> AccountView:
    try:
        return create_account(session, admin.tenant, account)
    except AccountExists as exists:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exists)) from None


@router.get("/accounts", response_model=list[AccountView])
def accounts(session: SessionDep, admin: AdminDep) -> list[AccountView]:
    return list_accounts(session, admin.tenant)


@router.post("/accounts/{account_id}/disable", status_code=status.HTTP_204_NO_CONTENT,
             responses={404: {"description": "No such active account in this tenant."}})
def disable(account_id: str, session: SessionDep, admin: AdminDep) -> None:
    """The account can no longer sign in or use its keys; its name stays on what it did."""
    if account_id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "an administrator cannot disable their own account")
    if not disable_account(session, admin.tenant, account_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active account {account_id}")


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated,
             responses={422: {"description": "Unknown account, or scopes beyond what the account or kind may hold."}})
def new_key(key: KeyIn, session: SessionDep, admin: AdminDep) -> KeyCreated:
    """A key of an explicit kind: `integrator` (a till, a web shop), `carrier` (webhooks), or `person` (one of
    the tenant's staff accounts, holding at most what its roles allow). An `operator` key (decoding every
    tenant's workflow payloads) is the operator's to make, with `security.keys_cli`: refused here."""
    try:
        key_id, secret = create_key(session, admin.tenant, key.principal, key.kind, key.scopes)
    except UnknownAccount as unknown:
        raise invalid_field("body", "principal", "unknown_account", str(unknown)) from None
    except KeyRefused as refused:
        raise invalid_field("body", "scopes" if key.scopes else "principal", "key_refused", str(refused)) from None
    return KeyCreated(key_id=key_id, key=secret)


@router.get("/keys", response_model=list[ApiKeyView])
def keys(session: SessionDep, admin: AdminDep) -> list[ApiKeyView]:
    return list_keys(session, admin.tenant)


@router.post("/keys/{key_id}/revoke", status_code=status.HTTP_204_NO_CONTENT,
             responses={404: {"description": "No such active key in this tenant."}})
def revoke(key_id: str, session: SessionDep, admin: AdminDep) -> None:
    if not revoke_key(session, key_id, admin.tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active key {key_id}")
