"""``greenai breaks``: print the stored breaks."""

from __future__ import annotations

import argparse
import json

import psycopg
from psycopg.rows import dict_row

from bff.db import breaks_query
from bff.models import BreakOut
from streams.settings import Settings


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    query, params = breaks_query(args.recon, args.status, args.limit)
    with psycopg.connect(settings.database(), row_factory=dict_row) as conn:
        rows = conn.execute(query, params).fetchall()  # type: ignore[call-overload]
    breaks = [BreakOut.from_datum(r).model_dump(mode="json") for r in rows]
    if args.json:
        print(json.dumps(breaks, indent=2))
        return 0
    for b in breaks:
        key = ", ".join(f"{k}={v}" for k, v in b["key"].items())
        print(
            f"{b['status']:<8} {b['kind']:<9} {b['recon']:<12} {key:<24} "
            f"{b['cause'] or '-':<18} {b['disposition'] or '-'}"
        )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    breaks = commands.add_parser("breaks", help="print breaks")
    breaks.add_argument("--recon")
    breaks.add_argument("--status", choices=["open", "resolved", "all"], default="open")
    breaks.add_argument("--limit", type=int, default=100_000)
    breaks.add_argument("--json", action="store_true", help="a JSON array")
    breaks.set_defaults(run=cmd_list)
