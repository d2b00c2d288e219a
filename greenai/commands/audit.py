"""``greenai audit``: verify the hash chain of the audit trail; export it (admins, approvers)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from greenai.client import Bff
from streams.settings import Settings


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    found = Bff(settings, timeout=3600).get("/api/audit/verify")
    if found["intact"]:
        print(f"audit trail intact: {found['entries']} entries, {found['shipped']} shipped")
        return 0
    print(f"greenai audit verify: {found['problem']}", file=sys.stderr)
    return 1


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    chunks = Bff(settings, timeout=3600).stream(
        "/api/audit/export",
        format=args.format,
        since=args.since,
        until=args.until,
        actor=args.user,
        recon=args.recon,
        break_id=args.break_id,
    )
    if args.out:
        with Path(args.out).open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
    else:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="the audit trail")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="walk the hash chain; name the first bad entry")
    verify.set_defaults(run=cmd_verify)
    export = sub.add_parser("export", help="the trail as CSV or JSON Lines")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--from", dest="since", metavar="ISO8601")
    export.add_argument("--to", dest="until", metavar="ISO8601")
    export.add_argument("--user")
    export.add_argument("--recon")
    export.add_argument("--break", dest="break_id")
    export.add_argument("--out", help="a file (default: standard output)")
    export.set_defaults(run=cmd_export)
