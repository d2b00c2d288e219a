"""The ``greenai`` command line (the contract in DESIGN.md): one function per command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from bff.db import breaks_query
from bff.models import BreakOut
from streams.database import load_recon, migrate, save_recon
from streams.ingest.files import read_rows
from streams.ingest.publisher import SourcePublisher
from streams.kafka import SafeProducer
from streams.recon import load_recon as load_recon_file
from streams.settings import Settings, load_settings
from streams.topics import Topics


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.up import run_stack

    return run_stack(settings, demo=args.demo)


def cmd_recon_apply(args: argparse.Namespace, settings: Settings) -> int:
    recon = load_recon_file(Path(args.file))
    migrate(settings.database())
    version = save_recon(settings.database(), recon)
    print(
        f"recon {recon.name} applied (version {version}, sources: {', '.join(recon.source_names)})"
    )
    return 0


def cmd_ingest_file(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    recon = load_recon(settings.database(), args.recon)
    publisher = SourcePublisher(
        SafeProducer(settings.kafka()), Topics(settings.topic_prefix), recon, args.source
    )
    started = time.perf_counter()
    counts = publisher.publish_all(read_rows(path))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "recon": recon.name,
                "source": args.source,
                "file": str(path),
                **counts.as_dict(),
                "seconds": round(seconds, 3),
                "rows_per_s": round(counts.read / seconds) if seconds else 0,
            }
        )
    )
    return 0


def cmd_wait(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.progress import wait_settled

    try:
        wait_settled(settings, args.timeout)
    except TimeoutError as exc:
        print(f"greenai wait: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_breaks(args: argparse.Namespace, settings: Settings) -> int:
    query, params = breaks_query(args.recon, args.status, args.limit)
    with psycopg.connect(settings.database(), row_factory=dict_row) as conn:
        rows = conn.execute(query, params).fetchall()  # type: ignore[call-overload]
    breaks = [BreakOut.from_datum(r).model_dump(mode="json") for r in rows]
    if args.json:
        print(json.dumps(breaks, indent=2))
    else:
        for b in breaks:
            key = ", ".join(f"{k}={v}" for k, v in b["key"].items())
            print(
                f"{b['status']:<8} {b['kind']:<9} {b['recon']:<12} {key:<24} "
                f"{b['cause'] or '-':<18} {b['disposition'] or '-'}"
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenai", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the local stack (foreground)")
    up.add_argument("--demo", action="store_true", help="add the live synthetic feed")
    up.set_defaults(run=cmd_up)

    recon = commands.add_parser("recon", help="reconciliation definitions")
    recon_commands = recon.add_subparsers(dest="recon_command", required=True)
    apply = recon_commands.add_parser("apply", help="register or update a reconciliation")
    apply.add_argument("file")
    apply.set_defaults(run=cmd_recon_apply)

    ingest = commands.add_parser("ingest", help="publish source records")
    ingest_commands = ingest.add_subparsers(dest="ingest_command", required=True)
    one_file = ingest_commands.add_parser("file", help="publish a CSV or JSON Lines file")
    one_file.add_argument("--recon", required=True)
    one_file.add_argument("--source", required=True)
    one_file.add_argument("path")
    one_file.set_defaults(run=cmd_ingest_file)

    wait = commands.add_parser("wait", help="block until everything published is stored")
    wait.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    wait.set_defaults(run=cmd_wait)

    breaks = commands.add_parser("breaks", help="print breaks")
    breaks.add_argument("--recon")
    breaks.add_argument("--status", choices=["open", "resolved", "all"], default="open")
    breaks.add_argument("--limit", type=int, default=100_000)
    breaks.add_argument("--json", action="store_true", help="a JSON array")
    breaks.set_defaults(run=cmd_breaks)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        code = run(args, load_settings())
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # every failure is one line for the operator
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"greenai {args.command}: {reason}", file=sys.stderr)
        code = 1
    sys.exit(code)
