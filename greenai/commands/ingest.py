"""``greenai ingest``: publish a source's records."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from streams.database import load_recon
from streams.ingest.files import read_rows
from streams.ingest.publisher import SourcePublisher
from streams.kafka import SafeProducer
from streams.settings import Settings
from streams.topics import Topics


def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
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
    summary = {
        "recon": recon.name,
        "source": args.source,
        "file": str(path),
        **counts.as_dict(),
        "seconds": round(seconds, 3),
        "rows_per_s": round(counts.read / seconds) if seconds else 0,
    }
    print(json.dumps(summary))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser("ingest", help="publish source records")
    sub = ingest.add_subparsers(dest="ingest_command", required=True)
    one_file = sub.add_parser("file", help="publish a CSV or JSON Lines file")
    one_file.add_argument("--recon", required=True)
    one_file.add_argument("--source", required=True)
    one_file.add_argument("path")
    one_file.set_defaults(run=cmd_file)
