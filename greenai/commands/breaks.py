"""``greenai breaks``: print the stored breaks; label them, reverse decisions (feedback)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from greenai.client import Bff
from greenai.commands import operations, workflow
from streams.settings import Settings


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    api = Bff(settings)
    breaks = []
    for brk in api.pages("/api/breaks", recon=args.recon, status=args.status):
        breaks.append(brk)
        if len(breaks) >= args.limit:
            break
    if args.json:
        print(json.dumps(breaks, indent=2))
        return 0
    for b in breaks:
        key = ", ".join(f"{k}={v}" for k, v in b["key"].items())
        due = "OVERDUE" if b.get("overdue") else f"age {b.get('age_days', '-')}d"
        print(
            f"{b['status']:<9} {b['kind']:<9} {b['recon']:<12} {key:<24} "
            f"{b['cause'] or '-':<18} {b['disposition'] or '-':<10} "
            f"{b.get('owner') or '-':<12} {due}"
        )
    return 0


def read_labels(path: Path) -> list[tuple[str, str]]:
    """``{"break_id", "cause"}`` per line (blank lines skipped); ValueError names the line."""
    labels = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            labels.append((str(item["break_id"]), str(item["cause"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f'{path}:{n}: expected {{"break_id", "cause"}} ({exc})') from None
    if not labels:
        raise ValueError(f"{path}: no labels")
    return labels


def _print_outcomes(outcomes: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(outcomes, indent=2))
        return
    for o in outcomes:
        change = (
            f"decision reversed: {o['previous_disposition']} -> {o['disposition']}"
            if o["reversed"]
            else f"disposition {o['disposition']}"
        )
        print(f"{o['break_id']} {o['previous_cause'] or '-'} -> {o['cause']} ({change})")


def cmd_label(args: argparse.Namespace, settings: Settings) -> int:
    if args.file:
        if args.break_id or args.cause:
            raise ValueError("give BREAK_ID CAUSE or --file, not both")
        labels = read_labels(Path(args.file))
    elif args.break_id and args.cause:
        labels = [(args.break_id, args.cause)]
    else:
        raise ValueError("give BREAK_ID CAUSE, or --file LABELS.jsonl")
    body = {
        "labels": [{"break_id": b, "cause": c.upper()} for b, c in labels],
        "disposition": args.disposition.upper() if args.disposition else None,
        "reason": args.reason,
    }
    _print_outcomes(Bff(settings).post("/api/breaks/labels", body), args.json)
    return 0


def cmd_reverse(args: argparse.Namespace, settings: Settings) -> int:
    body = {"disposition": args.to.upper(), "reason": args.reason}
    outcome = Bff(settings).post(f"/api/breaks/{args.break_id}/reverse", body)
    _print_outcomes([outcome], args.json)
    return 0


def cmd_decisions(args: argparse.Namespace, settings: Settings) -> int:
    rows = Bff(settings).get(f"/api/breaks/{args.break_id}/decisions")
    if not rows:
        raise ValueError(f"no decisions for break {args.break_id}")
    print(json.dumps(rows, indent=2, default=str))
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(Bff(settings).get(f"/api/breaks/{args.break_id}/audit"), indent=2))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    breaks = commands.add_parser("breaks", help="print breaks; label them (analyst feedback)")
    breaks.add_argument("--recon")
    breaks.add_argument("--status", choices=["open", "resolved", "all"], default="open")
    breaks.add_argument("--limit", type=int, default=1_000_000)
    breaks.add_argument("--json", action="store_true", help="a JSON array")
    breaks.set_defaults(run=cmd_list)
    sub = breaks.add_subparsers(dest="breaks_command", required=False)

    label = sub.add_parser(
        "label", help="teach the model a break's cause (BREAK_ID CAUSE, or --file)"
    )
    label.add_argument("break_id", nargs="?")
    label.add_argument("cause", nargs="?", help="TIMING, ROUNDING, FX, STATIC_DATA, ...")
    label.add_argument("--file", help='JSON Lines of {"break_id", "cause"}')
    label.add_argument("--disposition", help="also set the disposition (AUTO_CLOSE|QUEUE|ESCALATE)")
    label.add_argument("--reason")
    label.add_argument("--json", action="store_true")
    label.set_defaults(run=cmd_label)

    reverse = sub.add_parser("reverse", help="reverse the automatic disposition of a break")
    reverse.add_argument("break_id")
    reverse.add_argument("--to", default="QUEUE", help="the disposition it gets (default QUEUE)")
    reverse.add_argument("--reason")
    reverse.add_argument("--json", action="store_true")
    reverse.set_defaults(run=cmd_reverse)

    decisions = sub.add_parser("decisions", help="a break's recorded decisions (JSON)")
    decisions.add_argument("break_id")
    decisions.set_defaults(run=cmd_decisions)

    audit = sub.add_parser("audit", help="who did what to a break (JSON)")
    audit.add_argument("break_id")
    audit.set_defaults(run=cmd_audit)

    workflow.register(sub)
    operations.register_export(sub)
