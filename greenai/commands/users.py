"""``greenai users``: accounts, roles, recons, sessions and API tokens (admins)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from greenai.client import Bff
from streams.settings import Settings

ROLES = ["viewer", "analyst", "approver", "admin"]


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if getattr(args, "password", False):
        first = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return None


def _print_users(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    for u in rows:
        recons = "all recons" if u["recons"] is None else ", ".join(u["recons"]) or "no recon"
        state = " (disabled)" if u["disabled"] else ""
        print(f"{u['username']:<20} {','.join(u['roles']):<28} {recons}{state}")


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    _print_users(Bff(settings).get("/api/users"), args.json)
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    body = {
        "username": args.username,
        "roles": args.role,
        "recons": args.recon or None,
        "password": _password(args),
        "kind": "service" if args.service else "person",
        "display_name": args.display_name or "",
    }
    _print_users([Bff(settings).post("/api/users", body)], args.json)
    return 0


def cmd_set(args: argparse.Namespace, settings: Settings) -> int:
    body: dict[str, Any] = {}
    if args.role:
        body["roles"] = args.role
    if args.recon:
        body["recons"] = args.recon
    if args.all_recons:
        body["all_recons"] = True
    if args.disable or args.enable:
        body["disabled"] = bool(args.disable)
    password = _password(args)
    if password is not None:
        body["password"] = password
    _print_users([Bff(settings).patch(f"/api/users/{args.username}", body)], args.json)
    return 0


def cmd_revoke_sessions(args: argparse.Namespace, settings: Settings) -> int:
    ended = Bff(settings).post(f"/api/users/{args.username}/sessions/revoke")
    print(f"{ended['sessions']} session(s) of {args.username} ended")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    body = {
        "username": args.username,
        "name": args.name,
        "roles": args.role or None,
        "expires_in_days": args.days,
    }
    created = Bff(settings).post("/api/tokens", body)
    if args.json:
        print(json.dumps(created, indent=2))
    else:
        print(created["token"])
        print(
            f"token {created['token_id']} for {created['username']} "
            f"({', '.join(created['roles'])}), expires {created['expires_at'] or 'never'}: "
            "shown this once",
            file=sys.stderr,
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    Bff(settings).delete(f"/api/tokens/{args.token_id}")
    print(f"token {args.token_id} revoked")
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = Bff(settings).get("/api/tokens")
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for t in rows:
        state = "revoked" if t["revoked_at"] else f"expires {t['expires_at'] or 'never'}"
        print(f"{t['token_id']:>5} {t['prefix']}… {t['username']:<16} {t['name']:<30} {state}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="accounts, roles, sessions and API tokens (admin)")
    users.add_argument("--json", action="store_true")
    users.set_defaults(run=cmd_list)
    sub = users.add_subparsers(dest="users_command", required=False)

    add = sub.add_parser("add", help="a new account")
    add.add_argument("username")
    add.add_argument("--role", action="append", choices=ROLES, required=True)
    add.add_argument("--recon", action="append", help="limit to this recon (repeat); default all")
    add.add_argument("--display-name")
    add.add_argument("--service", action="store_true", help="a service account (tokens only)")
    add.add_argument("--password", action="store_true", help="ask for a password")
    add.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=cmd_add)

    change = sub.add_parser("set", help="change an account's roles, recons, state or password")
    change.add_argument("username")
    change.add_argument("--role", action="append", choices=ROLES, help="the new roles (repeat)")
    change.add_argument("--recon", action="append", help="the new recons (repeat)")
    change.add_argument("--all-recons", action="store_true", help="every recon")
    change.add_argument("--disable", action="store_true")
    change.add_argument("--enable", action="store_true")
    change.add_argument("--password", action="store_true", help="ask for a new password")
    change.add_argument("--password-stdin", action="store_true")
    change.add_argument("--json", action="store_true")
    change.set_defaults(run=cmd_set)

    revoke = sub.add_parser("revoke-sessions", help="end every session of an account at once")
    revoke.add_argument("username")
    revoke.set_defaults(run=cmd_revoke_sessions)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="a new API token (printed once)")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="what it is for")
    create.add_argument("--role", action="append", choices=ROLES, help="default: the user's")
    create.add_argument("--days", type=int, default=90, help="valid this long (default 90)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=cmd_token_create)
    revoke_token = token.add_parser("revoke", help="revoke an API token")
    revoke_token.add_argument("token_id", type=int)
    revoke_token.set_defaults(run=cmd_token_revoke)
    listing = token.add_parser("list", help="every API token (never the secrets)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_token_list)
