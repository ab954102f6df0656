"""`python -m security.keys_cli`: the operator's tool for staff accounts and API keys (an administrator's key
does the same over `/accounts` and `/keys`, within its tenant).

    account-create --tenant acme --id aino.virtanen --name "Aino Virtanen" --email aino@acme.fi --role agent
    account-list --tenant acme
    account-disable --tenant acme aino.virtanen
    create --tenant acme --kind integrator --principal till-helsinki-01 [--scope incidents:write ...]
    create --tenant acme --kind person --principal aino.virtanen      (scopes: what the account's roles allow)
    list [--tenant acme]
    revoke <key id>

The kind of a key is never assumed: a till's key made without `--kind integrator` is refused, not made a
person's key that could read every case.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from schemas.auth import AccountIn, PrincipalKind, Role, Scope
from settings import get_settings
from store.accounts import AccountExists, create_account, disable_account, list_accounts
from store.api_keys import KeyRefused, create_key, list_keys, revoke_key
from store.db import session_for


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m security.keys_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    account = commands.add_parser("account-create", help="create a staff account")
    account.add_argument("--tenant", required=True)
    account.add_argument("--id", required=True)
    account.add_argument("--name", required=True, help="display name")
    account.add_argument("--email", required=True)
    account.add_argument("--role", action="append", choices=[r.value for r in Role], required=True)
    account.add_argument("--password", action="store_true", help="ask for a console password")
    commands.add_parser("account-list").add_argument("--tenant", required=True)
    disable = commands.add_parser("account-disable", help="disable an account (its keys stop working)")
    disable.add_argument("--tenant", required=True)
    disable.add_argument("account_id")
    create = commands.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--principal", required=True, help="the account id (person) or the system's name")
    create.add_argument("--kind", choices=[k.value for k in PrincipalKind], required=True)
    create.add_argument("--scope", action="append", choices=[s.value for s in Scope],
                        help="default: all the account's roles or the kind allow")
    commands.add_parser("list", help="list keys (never their secrets)").add_argument("--tenant")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with session_for(get_settings().database_url) as session:
        try:
            return _run(session, args)
        except (KeyRefused, AccountExists, ValueError) as refused:
            print(f"refused: {refused}", file=sys.stderr)
            return 2


def _run(session, args: argparse.Namespace) -> int:
    if args.command == "account-create":
        password = getpass.getpass("password: ") if args.password else None
        account = AccountIn(id=args.id, display_name=args.name, email=args.email, roles=set(args.role),
                            password=password)
        print(create_account(session, args.tenant, account).model_dump_json())
    elif args.command == "account-list":
        for account in list_accounts(session, args.tenant):
            print(f"{account.id}  {'disabled' if account.disabled else 'active':8}  {','.join(account.roles)}  "
                  f"{account.display_name} <{account.email}>")
    elif args.command == "account-disable":
        return _done(disable_account(session, args.tenant, args.account_id), f"no active account {args.account_id}")
    elif args.command == "create":
        scopes = {Scope(s) for s in args.scope} if args.scope else None
        print(create_key(session, args.tenant, args.principal, PrincipalKind(args.kind), scopes)[1])
    elif args.command == "list":
        for key in list_keys(session, args.tenant):
            state = "revoked" if key.revoked else "active"
            print(f"{key.key_id}  {state:7}  {key.tenant}  {key.kind:10}  {key.principal}  {','.join(key.scopes)}")
    else:
        return _done(revoke_key(session, args.key_id), f"no active key {args.key_id}")
    return 0


def _done(succeeded: bool, failure: str) -> int:
    if not succeeded:
        print(failure, file=sys.stderr)
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
