"""``greenai up`` and ``greenai wait``."""

from __future__ import annotations

import argparse
import sys

from streams.settings import Settings


def _workers(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"at least one worker, not {n}")
    return n


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.up import run_stack

    workers = {"diff": args.diff_workers, "attribution": args.attribution_workers}
    return run_stack(settings, demo=args.demo, workers=workers, observability=args.observability)


def cmd_wait(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.client import ApiUnavailable, Bff
    from streams.progress import Progress, Unmeasurable, wait_settled

    api = Bff(settings)

    def look() -> Progress:
        try:
            found = api.get("/api/progress")
        except ApiUnavailable as exc:  # restarting, say: keep waiting until the timeout
            raise Unmeasurable(str(exc)) from None
        return Progress(
            found["diff_lag"],
            found["attribution_lag"],
            found["sink_lag"],
            found["open_windows"],
            found.get("unreported_partitions", 0),
        )

    try:
        wait_settled(look, args.timeout)
    except TimeoutError as exc:
        print(f"greenai wait: {exc}", file=sys.stderr)
        return 1
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    up = commands.add_parser("up", help="start the local stack (foreground)")
    up.add_argument("--demo", action="store_true", help="add the live synthetic feed")
    up.add_argument(
        "--observability",
        action="store_true",
        help="also run Prometheus (scraping every process) and Jaeger (their traces)",
    )
    for role in ("diff", "attribution"):
        up.add_argument(
            f"--{role}-workers",
            type=_workers,
            default=1,
            metavar="N",
            help=f"{role} worker processes sharing the partitions (default 1; at most "
            "GREENAI_PARTITIONS do work)",
        )
    up.set_defaults(run=cmd_up)

    wait = commands.add_parser("wait", help="block until everything published is stored")
    wait.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    wait.set_defaults(run=cmd_wait)
