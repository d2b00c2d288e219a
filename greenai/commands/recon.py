"""``greenai recon apply``."""

from __future__ import annotations

import argparse
from pathlib import Path

from streams.database import migrate, save_recon
from streams.recon import load_recon
from streams.settings import Settings


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    recon = load_recon(Path(args.file))
    migrate(settings.database())
    version = save_recon(settings.database(), recon)
    sources = ", ".join(recon.source_names)
    print(f"recon {recon.name} applied (version {version}, sources: {sources})")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    recon = commands.add_parser("recon", help="reconciliation definitions")
    sub = recon.add_subparsers(dest="recon_command", required=True)
    apply = sub.add_parser("apply", help="register or update a reconciliation")
    apply.add_argument("file")
    apply.set_defaults(run=cmd_apply)
