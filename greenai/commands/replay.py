"""``greenai replay --recon R --from ISO8601``: reprocess history without duplicating breaks."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from streams.database import load_recon
from streams.replay import replay
from streams.settings import Settings
from streams.topics import Topics


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--from: not an ISO 8601 moment: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    recon = load_recon(settings.database(), args.recon)  # fails clearly for an unknown recon
    since = _moment(args.since)
    count = replay(settings.kafka(), Topics(settings.topic_prefix).records, recon.name, since)
    print(json.dumps({"recon": recon.name, "from": since.isoformat(), "replayed": count}))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("replay", help="reprocess a recon's history")
    parser.add_argument("--recon", required=True)
    parser.add_argument("--from", dest="since", required=True, metavar="ISO8601")
    parser.set_defaults(run=cmd_replay)
