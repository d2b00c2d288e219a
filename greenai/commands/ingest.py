"""``greenai ingest``: publish a source's records (one file, a watched directory, or the
source's configured connector). See docs/connectors.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from greenai.client import Bff
from streams import logs, metrics
from streams.ingest.context import Connector, SourceContext, poll_forever
from streams.recon import Recon, parse_duration
from streams.settings import Settings


def _context(args: argparse.Namespace, settings: Settings) -> SourceContext:
    found = Bff(settings).get(f"/api/recons/{args.recon}")
    recon = Recon.model_validate(found["definition"])
    return SourceContext.create(
        settings.kafka(),
        settings.topic_prefix,
        recon,
        args.source,
        settings.state_dir,
        batch_rows=args.batch_rows,
    )


def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
    from streams.ingest.drops import ingest_file

    path = Path(args.path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    ctx = _context(args, settings)
    summary = ingest_file(ctx, path)
    assert summary is not None
    ctx.report(summary | {"file": str(path)})
    return 0


def _long_running(
    args: argparse.Namespace,
    settings: Settings,
    ctx: SourceContext,
    connector: Connector,
    interval: float,
) -> int:
    process = f"connector-{args.recon}-{args.source}"
    logs.configure(process, "INFO")
    if not args.once or args.metrics_port is not None:  # scraped like every process
        metrics.serve(
            process, settings.greenai_home, port=args.metrics_port, host=args.metrics_addr
        )
    with ctx.store.exclusive("connector"):
        poll_forever(ctx, connector, interval, args.once)
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from streams.ingest.watch import DirectoryWatch

    directory = Path(args.directory)
    if not directory.is_dir():
        raise ValueError(f"no such directory: {directory}")
    ctx = _context(args, settings)
    watch = DirectoryWatch(
        directory,
        pattern=args.pattern,
        done_marker=args.done_marker,
        settle=parse_duration(args.settle).total_seconds(),
    )
    return _long_running(args, settings, ctx, watch, parse_duration(args.interval).total_seconds())


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from streams.ingest.connectors import parse_connector

    ctx = _context(args, settings)
    block = ctx.recon.sources[args.source].connector
    config = parse_connector(block, f"{args.recon}.sources.{args.source}.connector")
    return _long_running(args, settings, ctx, config.build(), config.interval)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recon", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=20_000,
        metavar="N",
        help="flush and checkpoint at least every N rows (default 20000)",
    )


def _service(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--metrics-port", type=int, metavar="PORT", help="serve /metrics here")
    parser.add_argument("--metrics-addr", default="127.0.0.1", metavar="ADDR")


def register(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser("ingest", help="publish source records")
    sub = ingest.add_subparsers(dest="ingest_command", required=True)

    one_file = sub.add_parser("file", help="publish a CSV, JSON Lines or Parquet file")
    _common(one_file)
    one_file.add_argument("path")
    one_file.set_defaults(run=cmd_file)

    watch = sub.add_parser("watch", help="publish every complete file dropped in a directory")
    watch.add_argument("directory")
    _common(watch)
    _service(watch)
    watch.add_argument("--pattern", default="*", help="glob on file names (default *)")
    watch.add_argument(
        "--done-marker", action="store_true", help="only read NAME once NAME.done exists"
    )
    watch.add_argument(
        "--settle", default="2s", help="size unchanged this long means complete (default 2s)"
    )
    watch.add_argument("--interval", default="2s", help="time between scans (default 2s)")
    watch.set_defaults(run=cmd_watch)

    run = sub.add_parser("run", help="run the source's connector from its recon definition")
    _common(run)
    _service(run)
    run.set_defaults(run=cmd_run)
