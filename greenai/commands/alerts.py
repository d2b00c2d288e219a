"""``greenai alerts``: alert subscribers (webhook or e-mail) and their delivery log (admin)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from greenai.client import Bff
from streams.settings import Settings

SEVERITIES = ["INFO", "WARNING", "CRITICAL"]


def _filters(s: dict[str, Any]) -> str:
    parts = [f"{what}={','.join(s[what])}" for what in ("recons", "severities", "kinds") if s[what]]
    return " ".join(parts) or "every alert"


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    channel, target = ("webhook", args.webhook) if args.webhook else ("email", args.email)
    made = Bff(settings).post(
        "/api/alerts/subscriptions",
        {
            "name": args.name,
            "channel": channel,
            "target": target,
            "secret": args.secret,
            "recons": args.recon,
            "severities": args.severity,
            "kinds": args.kind,
        },
    )
    if args.json:
        print(json.dumps(made, indent=2, default=str))
        return 0
    print(f"subscribed {made['name']}: {channel} {target}, {_filters(made)}")
    if made.get("secret") and not args.secret:
        print(f"signing secret (shown once): {made['secret']}")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = Bff(settings).get("/api/alerts/subscriptions", ended=args.ended or None)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for s in rows:
        state = " (ended)" if s["ended_at"] else ""
        print(f"{s['name']:<20} {s['channel']:<8} {s['target']:<40} {_filters(s)}{state}")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    Bff(settings).delete(f"/api/alerts/subscriptions/{args.name}")
    print(f"unsubscribed {args.name}")
    return 0


def cmd_deliveries(args: argparse.Namespace, settings: Settings) -> int:
    rows = Bff(settings).get(
        "/api/alerts/deliveries", subscription=args.subscription, limit=args.limit
    )
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for d in rows:
        print(
            f"{d['at']}  {d['subscription']:<20} {d['alert_id']:<36} "
            f"try {d['attempt']}: {d['outcome']} {d['detail']}"
        )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    alerts = commands.add_parser("alerts", help="alert subscribers and deliveries (admin)")
    sub = alerts.add_subparsers(dest="alerts_command", required=True)

    subscribe = sub.add_parser("subscribe", help="send matching alerts to a webhook or address")
    subscribe.add_argument("name", help="what to call the subscription")
    to = subscribe.add_mutually_exclusive_group(required=True)
    to.add_argument("--webhook", metavar="URL", help="POST each alert as signed JSON here")
    to.add_argument("--email", metavar="ADDRESS", help="mail each alert here (GREENAI_SMTP_*)")
    subscribe.add_argument("--secret", help="the webhook's signing key (default: generated)")
    subscribe.add_argument("--recon", action="append", help="only this recon's (repeat)")
    subscribe.add_argument("--severity", action="append", choices=SEVERITIES, help="(repeat)")
    subscribe.add_argument("--kind", action="append", help="only this kind, e.g. SLA_BREACH")
    subscribe.add_argument("--json", action="store_true")
    subscribe.set_defaults(run=cmd_subscribe)

    listing = sub.add_parser("list", help="the subscriptions (never their secrets)")
    listing.add_argument("--ended", action="store_true", help="include ended ones")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)

    unsubscribe = sub.add_parser("unsubscribe", help="end a subscription (its log stays)")
    unsubscribe.add_argument("name")
    unsubscribe.set_defaults(run=cmd_unsubscribe)

    log = sub.add_parser("deliveries", help="the newest delivery attempts")
    log.add_argument("--subscription", help="only this subscription's")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=cmd_deliveries)
