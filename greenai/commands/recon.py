"""``greenai recon apply``: register a recon, or change one its running state can absorb."""

from __future__ import annotations

import argparse
from pathlib import Path

from greenai.client import Bff
from streams.recon import load_recon
from streams.settings import Settings


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    recon = load_recon(Path(args.file))  # a bad file is said here, with its line
    applied = Bff(settings).put(f"/api/recons/{recon.name}", recon.model_dump(mode="json"))
    sources = ", ".join(applied["sources"])
    print(f"recon {applied['name']} applied (version {applied['version']}, sources: {sources})")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    recon = commands.add_parser("recon", help="reconciliation definitions")
    sub = recon.add_subparsers(dest="recon_command", required=True)
    apply = sub.add_parser(
        "apply",
        help="register or update a reconciliation (a change the running state cannot absorb "
        "is refused: see docs/recon.md)",
    )
    apply.add_argument("file")
    apply.set_defaults(run=cmd_apply)
