"""``greenai recon apply``: register a recon, or change one its running state can absorb."""

from __future__ import annotations

import argparse
from pathlib import Path

import redis

from streams import reports
from streams.database import load_recons, migrate, save_recon
from streams.recon import load_recon
from streams.recon_changes import Holdings, refusals
from streams.settings import Settings


def diff_holdings(settings: Settings, recon: str) -> Holdings | None:
    """What each source of ``recon`` holds in the diff now (None: nobody can tell)."""
    try:
        with redis.Redis.from_url(settings.redis(), socket_timeout=5) as client:
            return reports.holdings(client, settings.topic_prefix, recon)
    except redis.RedisError:
        return None


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    recon = load_recon(Path(args.file))
    migrate(settings.database())
    held = load_recons(settings.database()).get(recon.name)
    if held is not None:
        problems = refusals(held[1], recon, diff_holdings(settings, recon.name))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ValueError(f"refused: {problems[0]}{more}")
    version = save_recon(settings.database(), recon)
    sources = ", ".join(recon.source_names)
    print(f"recon {recon.name} applied (version {version}, sources: {sources})")
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
