"""``greenai schedule``, ``greenai stats``, ``greenai breaks export`` and ``greenai report
eod``: the day-to-day of an operations team, through the BFF."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from greenai.client import Bff
from streams.settings import Settings


def cmd_schedule_list(args: argparse.Namespace, settings: Settings) -> int:
    jobs = Bff(settings).get("/api/schedule")
    if args.json:
        print(json.dumps(jobs, indent=2))
        return 0
    for j in jobs:
        last = j["last_run"]
        ran = f"{last['status']} at {last['started_at']}" if last else "never ran"
        failed = f", {j['failures']} failed today" if j["failures"] else ""
        print(f"{j['job']:<32} {j['schedule']:<34} next {j['next_run']}  {ran}{failed}")
    return 0


def cmd_schedule_run(args: argparse.Namespace, settings: Settings) -> int:
    """Ask for a run; with --wait, wait for it to end and fail if it failed."""
    api = Bff(settings)
    asked = api.post(f"/api/schedule/{args.job}/run")
    print(f"{args.job}: run asked for at {asked['requested_at']}")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        mine = [
            r
            for r in api.get("/api/schedule/runs", job=args.job, limit=20)
            if r["request_id"] == asked["request_id"] and r["status"] != "RUNNING"
        ]
        if mine:
            run = mine[0]
            print(f"{args.job}: {run['status']}: {run['detail']}")
            if run["status"] != "OK":
                raise RuntimeError(f"{args.job} failed: {run['detail']}")
            return 0
        time.sleep(0.5)
    if args.wait:
        raise TimeoutError(f"{args.job} did not run within {args.wait:.0f}s (is the scheduler up?)")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    found = Bff(settings).get("/api/stats", recon=args.recon, days=args.days)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for r in found["recons"]:
        o = r["open"]
        print(
            f"{r['recon']} ({r['timezone']}): {o['total']} open, {o['overdue']} overdue, ageing "
            + ", ".join(f"{b}: {n}" for b, n in o["by_bucket"].items())
        )
        for d in r["days"]:
            print(
                f"  {d['day']} seen {d['keys_seen']:>7} matched {d['matched']:>7} "
                f"opened {d['opened']:>5} resolved {d['resolved']:>5} closed {d['closed']:>5} "
                f"match rate {_pct(d['match_rate'])} auto-close {_pct(d['auto_close_rate'])} "
                f"time to settle {_hours(d['mean_hours_to_settle'])}"
            )
    return 0


def _pct(rate: float | None) -> str:
    return "   -  " if rate is None else f"{rate * 100:5.1f}%"


def _hours(hours: float | None) -> str:
    return "-" if hours is None else f"{hours:.1f}h"


def _download(api: Bff, path: str, params: dict[str, Any], out: Path) -> None:
    response = api.call("GET", path, params={k: v for k, v in params.items() if v is not None})
    out.write_bytes(response.content)
    print(f"{out}: {len(response.content)} bytes")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    params = {
        "format": args.format,
        "recon": args.recon,
        "status": args.status,
        "owner": args.owner,
        "cause": args.cause,
        "kind": args.kind,
        "tag": args.tag,
        "overdue": "true" if args.overdue else None,
        "bucket": args.bucket,
    }
    out = Path(args.out or f"breaks.{args.format}")
    _download(Bff(settings), "/api/breaks/export", params, out)
    return 0


def cmd_eod(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out or f"eod-{args.recon}-{args.date or 'today'}.xlsx")
    _download(Bff(settings), "/api/reports/eod", {"recon": args.recon, "date": args.date}, out)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    schedule = commands.add_parser("schedule", help="the scheduler's jobs; run one now")
    jobs = schedule.add_subparsers(dest="schedule_command", required=True)
    listing = jobs.add_parser("list", help="every job, its schedule, next and last run")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_schedule_list)
    run = jobs.add_parser("run", help="run a job now (admins), e.g. cutoff:trades")
    run.add_argument("job")
    run.add_argument("--wait", type=float, default=60, help="seconds to wait for it (0: none)")
    run.set_defaults(run=cmd_schedule_run)

    stats = commands.add_parser("stats", help="per recon and day: matched, breaks, rates, ageing")
    stats.add_argument("--recon")
    stats.add_argument("--days", type=int, default=7)
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(run=cmd_stats)

    report = commands.add_parser("report", help="reports")
    reports = report.add_subparsers(dest="report_command", required=True)
    eod = reports.add_parser("eod", help="a recon's end-of-day report (XLSX)")
    eod.add_argument("--recon", required=True)
    eod.add_argument("--date", help="YYYY-MM-DD (default: today in the recon's time zone)")
    eod.add_argument("--out", help="the file (default eod-RECON-DATE.xlsx)")
    eod.set_defaults(run=cmd_eod)


def register_export(sub: argparse._SubParsersAction) -> None:
    """``greenai breaks export``."""
    export = sub.add_parser("export", help="any filtered view of breaks as CSV or XLSX")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--out", help="the file (default breaks.FORMAT)")
    export.add_argument("--recon")
    export.add_argument(
        "--status", default="open", help="open, resolved, all, OPEN, IN_REVIEW, RESOLVED, CLOSED"
    )
    export.add_argument("--owner", help="a user, team:NAME, me or none")
    export.add_argument("--cause")
    export.add_argument("--kind")
    export.add_argument("--tag")
    export.add_argument("--overdue", action="store_true")
    export.add_argument("--bucket", choices=["0-1", "2-3", "4-7", ">7"])
    export.set_defaults(run=cmd_export)
