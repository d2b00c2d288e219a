"""``greenai up`` and ``greenai wait``."""

from __future__ import annotations

import argparse
import sys

from streams.settings import Settings


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from greenai.up import run_stack

    return run_stack(settings, demo=args.demo)


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
            found["diff_lag"], found["attribution_lag"], found["sink_lag"], found["open_windows"]
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
    up.set_defaults(run=cmd_up)

    wait = commands.add_parser("wait", help="block until everything published is stored")
    wait.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    wait.set_defaults(run=cmd_wait)
