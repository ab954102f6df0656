"""`python -m security.keys_cli create|list|revoke`: manage API keys from the command line.

    create --principal till-helsinki-01 --kind integrator --scope incidents:write --scope cases:read
    list
    revoke <key id>
"""

from __future__ import annotations

import argparse
import sys

from schemas.auth import PrincipalKind, Scope
from settings import get_settings
from store.api_keys import create_key, list_keys, revoke_key
from store.db import session_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.keys_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument("--principal", required=True, help="the system or person the key belongs to")
    create.add_argument("--kind", choices=[k.value for k in PrincipalKind], default=PrincipalKind.person)
    create.add_argument("--scope", action="append", choices=[s.value for s in Scope], required=True)
    commands.add_parser("list", help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    with session_for(get_settings().database_url) as session:
        if args.command == "create":
            print(create_key(session, args.principal, PrincipalKind(args.kind), {Scope(s) for s in args.scope}))
        elif args.command == "list":
            for key in list_keys(session):
                state = "revoked" if key.revoked else "active"
                print(f"{key.key_id}  {state:7}  {key.kind:10}  {key.principal}  {','.join(key.scopes)}")
        elif not revoke_key(session, args.key_id):
            print(f"no active key {args.key_id}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
