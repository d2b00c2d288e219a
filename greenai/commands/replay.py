"""``greenai replay --recon R --from ISO8601``: reprocess history without duplicating breaks."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from greenai.client import Bff
from streams.settings import Settings


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--from: not an ISO 8601 moment: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    since = _moment(args.since)
    done = Bff(settings, timeout=3600).post(
        "/api/replay", {"recon": args.recon, "from": since.isoformat()}
    )
    print(
        json.dumps(
            {"recon": done["recon"], "from": since.isoformat(), "replayed": done["replayed"]}
        )
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("replay", help="reprocess a recon's history")
    parser.add_argument("--recon", required=True)
    parser.add_argument("--from", dest="since", required=True, metavar="ISO8601")
    parser.set_defaults(run=cmd_replay)
