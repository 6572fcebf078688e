"""``regiomatch users``: named accounts on the server's database.

Examples::

    regiomatch users add els --role beheerder          # asks for a password twice
    regiomatch users add w13 --role bijdrager --password-stdin < wachtwoord.txt
    regiomatch users add script --role bijdrager --no-password --token "nachtelijke export"
    regiomatch users token w13 --label "QGIS"          # prints a new API token once
    regiomatch users list
    regiomatch users sign-out w13                      # ends every browser session of w13
    regiomatch users remove w13

As soon as one user exists, every write needs a user (a session from ``/aanmelden`` or one of
their API tokens); ``REGIOMATCH_API_TOKEN``, if set, stays a beheerder's key.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from api.cli_common import add_command, print_frame
from api.settings import get_settings
from geo.accounts.roles import ROLES


def _accounts():  # noqa: ANN202 - the store is imported only for these commands
    from geo.storage.store import Store

    return Store(get_settings().resolved_database_url()).accounts


def _password(args: argparse.Namespace) -> str | None:
    if args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"wachtwoord voor {args.name}: ")
    if getpass.getpass("nogmaals: ") != first:
        raise SystemExit("de twee wachtwoorden verschillen; er is niets aangemaakt")
    return first


def cmd_add(args: argparse.Namespace) -> None:
    accounts = _accounts()
    user = accounts.add_user(args.name, args.role, _password(args))
    print(f"gebruiker {user.name} aangemaakt ({user.role})")
    if args.token is not None:
        print(accounts.add_token(user.name, args.token))


def cmd_list(args: argparse.Namespace) -> None:
    import pandas as pd

    accounts = _accounts()
    rows = [{"name": u.name, "role": u.role, "sign_in": "ja" if u.can_sign_in else "nee", "tokens": u.tokens,
             "sessions": accounts.session_count(u.name), "created_at": u.created_at.strftime("%Y-%m-%d %H:%M")}
            for u in accounts.list_users()]
    print_frame(pd.DataFrame(rows, columns=["name", "role", "sign_in", "tokens", "sessions", "created_at"]),
                args.format or "table")


def cmd_remove(args: argparse.Namespace) -> None:
    _accounts().remove_user(args.name)
    print(f"gebruiker {args.name} verwijderd, met zijn sleutels en sessies")


def cmd_token(args: argparse.Namespace) -> None:
    accounts = _accounts()
    if args.revoke:
        print(f"{accounts.revoke_tokens(args.name)} sleutel(s) van {args.name} ingetrokken")
        return
    print(accounts.add_token(args.name, args.label or ""))


def cmd_password(args: argparse.Namespace) -> None:
    args.no_password = False
    _accounts().set_password(args.name, _password(args) or "")
    print(f"wachtwoord van {args.name} gewijzigd; zijn sessies zijn beëindigd")


def cmd_sign_out(args: argparse.Namespace) -> None:
    accounts = _accounts()
    count = accounts.revoke_sessions(None if args.shared_token else args.name)
    print(f"{count} sessie(s) beëindigd")


def register(sub: argparse._SubParsersAction) -> None:
    users = add_command(sub, "users", help="named accounts: add, list, remove, tokens, sessions")
    commands = users.add_subparsers(dest="users_command", required=True)
    p = add_command(commands, "add", help="add a user (asks for a password)")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--no-password", action="store_true", help="no browser sign-in: API tokens only")
    p.add_argument("--token", metavar="LABEL", help="also print a new API token with this label")
    p.set_defaults(func=cmd_add)
    p = add_command(commands, "list", help="list the users")
    p.set_defaults(func=cmd_list)
    p = add_command(commands, "remove", help="remove a user with their tokens and sessions")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove)
    p = add_command(commands, "token", help="print a new API token for a user (or --revoke all of them)")
    p.add_argument("name")
    p.add_argument("--label", help="what the token is for")
    p.add_argument("--revoke", action="store_true", help="revoke every token of the user instead")
    p.set_defaults(func=cmd_token)
    p = add_command(commands, "password", help="set a user's password (ends their sessions)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_password)
    p = add_command(commands, "sign-out", help="end every browser session of a user")
    p.add_argument("name", nargs="?")
    p.add_argument("--shared-token", action="store_true", help="the sessions signed in with REGIOMATCH_API_TOKEN")
    p.set_defaults(func=cmd_sign_out)
