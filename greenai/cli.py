"""The ``greenai`` command line (the contract in DESIGN.md).

Each area's subcommands live in ``greenai/commands/``; every command talks to the stack that
``greenai up`` started (or the servers the environment names) and fails with one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from greenai.commands import (
    alerts,
    audit,
    breaks,
    ingest,
    model,
    operations,
    recon,
    replay,
    stack,
    users,
)
from streams import logs, tracing
from streams.settings import Settings, load_settings

AREAS = (stack, recon, ingest, breaks, replay, model, users, audit, alerts, operations)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenai", description="Streaming reconciliation.")
    commands = parser.add_subparsers(dest="command", required=True)
    for area in AREAS:
        area.register(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        settings = load_settings()
        process = args.command if args.command in ("up", "ingest") else "cli"
        logs.configure(process, settings.log_level)
        tracing.configure(process)
        code = run(args, settings)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # every failure is one line for the operator
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        print(f"greenai {args.command}: {reason}", file=sys.stderr)
        code = 1
    sys.exit(code)
