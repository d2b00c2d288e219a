"""``greenai model``: the attribution model's quality, versions and rollback."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from streams.settings import Settings

if TYPE_CHECKING:
    from streams.recon import Recon

DEFAULT_PLOT = Path("attribution-eval.png")


def _demo_recon() -> Recon:
    from greenai.up import DEMO_RECON
    from streams.recon import load_recon

    return load_recon(DEMO_RECON)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Generated labelled breaks, no stack needed."""
    from streams.attribution.evaluation import evaluate, plot, text
    from streams.recon import load_recon

    recon = load_recon(Path(args.recon)) if args.recon else _demo_recon()
    report = evaluate(recon, args.labels, delay=args.delay, seed=args.seed, holdout=args.holdout)
    png = plot(report, Path(args.plot))
    if args.json:
        print(json.dumps(report.as_dict() | {"plot": str(png)}, indent=2, default=str))
    else:
        print(text(report))
        print(f"\nplot: {png}")
    return 0 if report.meets_target or not args.check else 1


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from streams.attribution.comparison import compare, table

    seeds = tuple(range(args.seed, args.seed + args.runs))
    rows = compare(_demo_recon(), args.breaks, delay=args.delay, seeds=seeds)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print(table(rows, args.breaks, args.delay, args.runs))
    return 0


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime

    from greenai.client import Bff

    rows = Bff(settings).get("/api/model/versions", limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print(
        f"{'version':>7} {'offset':>7} {'labels':>7} {'accuracy':>8} {'drifts':>6}  "
        f"{'based_on':>8}  river   created"
    )
    for r in rows:
        m = r["metrics"]
        print(
            f"{r['version']:>7} {r['feedback_offset']:>7} {r['labels_seen']:>7} "
            f"{m.get('accuracy_recent', 0):>8.2%} {m.get('drifts', 0):>6}  "
            f"{r['based_on'] or '-':>8}  {r['river_version']:<7} "
            f"{datetime.fromisoformat(r['created_at']):%Y-%m-%d %H:%M:%S}"
        )
    return 0


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.client import Bff

    Bff(settings).post("/api/model/rollback", {"version": args.version, "reason": args.reason})
    print(f"model rollback to version {args.version} published; every worker applies it in order")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    model = commands.add_parser("model", help="the attribution model")
    sub = model.add_subparsers(dest="model_command", required=True)

    ev = sub.add_parser("eval", help="quality on generated labelled breaks (no stack needed)")
    ev.add_argument("--labels", type=int, default=600, help="labels to learn (default 600)")
    ev.add_argument("--delay", type=int, default=25, help="labels arrive this many breaks late")
    ev.add_argument("--seed", type=int, default=1)
    ev.add_argument("--holdout", type=int, default=1000, help="held-out breaks (other seed)")
    ev.add_argument("--recon", help="recon YAML (default: the demo recon)")
    ev.add_argument("--plot", default=str(DEFAULT_PLOT), help="PNG to write")
    ev.add_argument("--check", action="store_true", help="exit 1 when the target is not met")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(run=cmd_eval)

    cmp = sub.add_parser("compare", help="River models compared with progressive_val_score")
    cmp.add_argument("--breaks", type=int, default=1000)
    cmp.add_argument("--delay", type=int, default=25)
    cmp.add_argument("--seed", type=int, default=3)
    cmp.add_argument("--runs", type=int, default=3)
    cmp.add_argument("--json", action="store_true")
    cmp.set_defaults(run=cmd_compare)

    ls = sub.add_parser("versions", help="stored model versions with their metrics")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=cmd_versions)

    rb = sub.add_parser("rollback", help="return every worker's model to a stored version")
    rb.add_argument("version", type=int)
    rb.add_argument("--reason")
    rb.set_defaults(run=cmd_rollback)
