"""``greenai breaks take|release|assign|review|close|propose|approve|reject|reopen|comment|
tag``, and the thread, history and approval queue: the exception workflow from the command
line, through the BFF (which authorises, audits and sends each action to the break's owner).

Several break ids make one all-or-nothing selection (one audit entry per break). Each
command waits up to ``--wait`` seconds for the breaks' new revisions and says whether they
are stored yet."""

from __future__ import annotations

import argparse
import json
from typing import Any

from greenai.client import Bff
from streams.settings import Settings

REASONS = "WRITTEN_OFF (a write-off: propose it), DUPLICATE, TIMING_ACCEPTED, OTHER"


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"action": args.action}
    for name in ("to", "reason", "note", "text"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    if getattr(args, "add", None):
        body["add"] = args.add
    if getattr(args, "remove", None):
        body["remove"] = args.remove
    if getattr(args, "write_off", None) is not None:
        body["proposal"], body["amount"] = "WRITE_OFF", args.write_off
    return body


def cmd_act(args: argparse.Namespace, settings: Settings) -> int:
    api, body, wait = Bff(settings), _body(args), f"?wait={args.wait}"
    ids = list(dict.fromkeys(args.break_ids))
    if len(ids) == 1:
        accepted = [api.post(f"/api/breaks/{ids[0]}/actions{wait}", body)]
    else:
        accepted = api.post(f"/api/breaks/actions{wait}", body | {"break_ids": ids})["accepted"]
    if args.json:
        print(json.dumps(accepted, indent=2))
        return 0
    for a in accepted:
        state = "applied" if a["applied"] else "accepted (not stored yet)"
        print(f"{a['break_id']} {a['action']} {state}")
    return 0


def cmd_comments(args: argparse.Namespace, settings: Settings) -> int:
    found = Bff(settings).get(f"/api/breaks/{args.break_id}/comments")
    if args.json:
        print(json.dumps(found, indent=2))
    for c in [] if args.json else found:
        print(f"{c['at']} {c['by']}: {c['text']}")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    found = Bff(settings).get(f"/api/breaks/{args.break_id}/history")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for c in found:
        what = f"{c['action']} by {c['by']}" if c["action"] else "the data changed"
        detail = c["text"] or c["reason"] or c["assignee"] or ""
        print(
            f"{c['at']} v{c['version']}.{c['revision']} {c['status']:<9} {what} {detail}".rstrip()
        )
    return 0


def cmd_approvals(args: argparse.Namespace, settings: Settings) -> int:
    found = Bff(settings).get("/api/approvals")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for b in found:
        p = b["proposal"]
        what = f"write off {p['amount']}" if p["action"] == "WRITE_OFF" else "close"
        print(f"{b['break_id']} {b['recon']} {what} ({p['reason']}) proposed by {p['by']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """The workflow's subcommands of ``greenai breaks``."""

    def action(name: str, help: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help)
        parser.add_argument("break_ids", nargs="+", metavar="BREAK_ID")
        parser.add_argument("--wait", type=float, default=10, help="seconds (default 10)")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(run=cmd_act, action=name)
        return parser

    action("take", "own the breaks yourself")
    action("release", "give the breaks back to the queue")
    action("assign", "assign the breaks").add_argument(
        "--to", required=True, help="a user, or team:NAME"
    )
    action("review", "put OPEN breaks into review (IN_REVIEW)")
    close = action("close", "close the breaks with a reason code")
    close.add_argument("--reason", required=True, help=REASONS)
    close.add_argument("--note")
    propose = action("propose", "propose to close (or write off) the breaks, for an approver")
    propose.add_argument("--reason", required=True, help=REASONS)
    propose.add_argument("--note")
    propose.add_argument("--write-off", metavar="AMOUNT", help="propose writing off AMOUNT")
    action("approve", "approve another user's pending proposal (approvers)")
    action("reject", "reject another user's pending proposal (approvers)").add_argument(
        "--reason", required=True
    )
    action("reopen", "reopen CLOSED breaks").add_argument("--reason", required=True)
    tag = action("tag", "add or remove tags")
    tag.add_argument("--add", action="append", default=[], metavar="TAG")
    tag.add_argument("--remove", action="append", default=[], metavar="TAG")

    comment = sub.add_parser("comment", help="comment on a break")
    comment.add_argument("break_ids", nargs=1, metavar="BREAK_ID")
    comment.add_argument("text")
    comment.add_argument("--wait", type=float, default=10)
    comment.add_argument("--json", action="store_true")
    comment.set_defaults(run=cmd_act, action="comment")

    comments = sub.add_parser("comments", help="a break's comment thread")
    comments.add_argument("break_id")
    comments.add_argument("--json", action="store_true")
    comments.set_defaults(run=cmd_comments)

    history = sub.add_parser("history", help="every change of a break: the data's and people's")
    history.add_argument("break_id")
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=cmd_history)

    approvals = sub.add_parser("approvals", help="proposals awaiting an approver")
    approvals.add_argument("--json", action="store_true")
    approvals.set_defaults(run=cmd_approvals)
