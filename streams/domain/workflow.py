"""The exception workflow of a break (pure): who owns it, where it stands, what people did.

A break's *data* says whether it is settled by the data (RESOLVED) or not; its *workflow*
says what people (and the scheduler) did about it: an owner, a review, a close with a reason
code, a pending proposal awaiting an approver (maker-checker), tags, an analyst's cause or
disposition. Every accepted :class:`Command` is one new *revision* of the break, carrying the
command as its ``activity``. The diff worker, which owns each break, applies commands with
:func:`apply`; the BFF runs the same function on the stored break first, to refuse at once
what the owner would refuse.

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
>>> wf = apply(Workflow(), Status.OPEN, 1, Command("c1", Action.TAKE, "mark", at))
>>> wf.owner, wf.revision, status_of(Status.OPEN, wf)
('mark', 1, <Status.OPEN: 'OPEN'>)
>>> close = Command("c2", Action.PROPOSE, "mark", at, reason="TIMING_ACCEPTED", version=1)
>>> wf = apply(wf, Status.OPEN, 1, close)
>>> apply(wf, Status.OPEN, 1, Command("c3", Action.APPROVE, "mark", at, version=1))
Traceback (most recent call last):
...
streams.domain.workflow.Refused: nobody approves their own proposal (mark proposed it)
>>> wf = apply(wf, Status.OPEN, 1, Command("c3", Action.APPROVE, "chloe", at, version=1))
>>> status_of(Status.OPEN, wf), wf.closure.reason, wf.closure.approved_by
(<Status.CLOSED: 'CLOSED'>, 'TIMING_ACCEPTED', 'chloe')
>>> status_of(Status.OPEN, on_new_data(wf))  # new data reopens a closed break
<Status.OPEN: 'OPEN'>
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from streams.domain.vocabulary import CAUSES, DISPOSITIONS, Status

TEAM_PREFIX = "team:"
MAX_TAGS = 20
CLOSE_REASONS = ("WRITTEN_OFF", "DUPLICATE", "TIMING_ACCEPTED", "OTHER")
AUTO_PREFIX = "auto:"
UNSETTLED = (Status.OPEN, Status.IN_REVIEW)


class Action(StrEnum):
    TAKE = "TAKE"  # the actor becomes the owner
    RELEASE = "RELEASE"  # back to the queue: no owner, not in review
    ASSIGN = "ASSIGN"  # to a user, or a team as "team:<name>"
    REVIEW = "REVIEW"  # OPEN -> IN_REVIEW (the actor owns it if nobody did)
    CLOSE = "CLOSE"  # CLOSED with a reason code and a note
    PROPOSE = "PROPOSE"  # a close or a write-off for an approver (maker)
    APPROVE = "APPROVE"  # another user's proposal: the break closes (checker)
    REJECT = "REJECT"  # another user's proposal: withdrawn, with a reason
    REOPEN = "REOPEN"  # CLOSED -> OPEN; The Discriminator's auto-close stays off
    COMMENT = "COMMENT"
    TAG = "TAG"
    LABEL = "LABEL"  # the analyst's cause (and optionally disposition)
    REVERSE = "REVERSE"  # the analyst's disposition instead of The Discriminator's
    ESCALATE = "ESCALATE"  # disposition ESCALATE (the scheduler at a cut-off)


class ProposalAction(StrEnum):
    CLOSE = "CLOSE"
    WRITE_OFF = "WRITE_OFF"


class Refused(ValueError):
    """A command the break's workflow does not take now (the message says why, one line)."""


class Incomplete(Refused):
    """A command that lacks what its action needs, or says it wrongly (a reason, an amount,
    a known cause): refused whatever the break's state."""


class Command(Struct, frozen=True, omit_defaults=True):
    """One action on one break by one actor. ``version`` is the break's data version the
    actor saw: a close, a proposal or an approval of a break whose data changed since is
    refused (look again first)."""

    command_id: str
    action: Action
    by: str
    at: datetime
    version: int | None = None
    to: str | None = None
    reason: str | None = None
    note: str | None = None
    text: str | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    proposal: ProposalAction | None = None
    amount: Decimal | None = None
    cause: str | None = None
    disposition: str | None = None


class Proposal(Struct, frozen=True, omit_defaults=True):
    action: ProposalAction
    reason: str
    by: str
    at: datetime
    version: int
    note: str | None = None
    amount: Decimal | None = None


class Closure(Struct, frozen=True, omit_defaults=True):
    """A close by a person: directly, or a proposal another user approved."""

    reason: str
    by: str
    at: datetime
    note: str | None = None
    approved_by: str | None = None
    written_off: Decimal | None = None


class Override(Struct, frozen=True, omit_defaults=True):
    """An analyst's (or the scheduler's) word over attribution: a cause or a disposition."""

    value: str
    by: str
    reason: str | None = None


class Workflow(Struct, frozen=True, omit_defaults=True):
    revision: int = 0
    owner: str | None = None
    in_review: bool = False
    closure: Closure | None = None
    keep_open: bool = False  # reopened by a person: no auto-close until the data changes
    proposal: Proposal | None = None
    tags: tuple[str, ...] = ()
    cause: Override | None = None
    disposition: Override | None = None
    activity: Command | None = None  # what made this revision


def status_of(data: Status, wf: Workflow | None) -> Status:
    """A break's status from its data (OPEN or RESOLVED) and its workflow. The auto-close of
    The Discriminator comes on top of it, in attribution (:func:`auto_closed`)."""
    if data is Status.RESOLVED or wf is None:
        return data
    if wf.closure is not None:
        return Status.CLOSED
    return Status.IN_REVIEW if wf.in_review else Status.OPEN


def auto_closed(status: str, keep_open: bool, disposition: str | None) -> bool:
    """Whether The Discriminator's AUTO_CLOSE closes a break of this status (unless a person
    reopened it: ``keep_open``).

    >>> auto_closed("OPEN", False, "AUTO_CLOSE"), auto_closed("OPEN", False, "QUEUE")
    (True, False)
    >>> auto_closed("OPEN", True, "AUTO_CLOSE"), auto_closed("CLOSED", False, "AUTO_CLOSE")
    (False, False)
    """
    return disposition == "AUTO_CLOSE" and status in UNSETTLED and not keep_open


def on_new_data(wf: Workflow | None) -> Workflow | None:
    """The workflow of a break whose data changed (a new version): a close is undone (the
    break is OPEN again), a pending proposal withdrawn (it was about other data) and The
    Discriminator may auto-close it again; the change is the data's, not an action. The
    owner, review, tags and overrides stay."""
    if wf is None:
        return None
    return replace(wf, closure=None, proposal=None, keep_open=False, activity=None)


def apply(wf: Workflow | None, status: Status, version: int, cmd: Command) -> Workflow:
    """The workflow after ``cmd`` on a break of this ``status`` and data ``version``;
    :class:`Refused` (one line) for a command that does not apply now."""
    wf = wf or Workflow()
    new = _RULES[cmd.action](wf, status, version, cmd)
    return replace(new, revision=wf.revision + 1, activity=cmd)


def _unsettled(status: Status, what: str) -> None:
    if status not in UNSETTLED:
        raise Refused(f"cannot {what} a {status.value} break")


def _current(cmd: Command, version: int) -> None:
    if cmd.version is not None and cmd.version != version:
        raise Refused(
            f"the break changed since (version {cmd.version} was seen, it is at {version} now)"
        )


def _required(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise Incomplete(f"{what} is required")
    return value.strip()


def _take(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "take")
    return replace(wf, owner=cmd.by)


def _release(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "release")
    if wf.owner is None:
        raise Refused("the break has no owner to release")
    return replace(wf, owner=None, in_review=False)


def _assign(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "assign")
    to = _required(cmd.to, "whom to assign it to")
    if to.startswith(TEAM_PREFIX) and not to[len(TEAM_PREFIX) :].strip():
        raise Incomplete("a team is named team:<name>")
    return replace(wf, owner=to)


def _review(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    if status is not Status.OPEN:
        raise Refused(f"only an OPEN break goes into review (this one is {status.value})")
    return replace(wf, in_review=True, owner=wf.owner or cmd.by)


def _close(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "close")
    _current(cmd, version)
    if wf.proposal is not None:
        raise Refused(f"a proposal by {wf.proposal.by} is pending: approve or reject it first")
    reason = _required(cmd.reason, "a reason code")
    if reason == "WRITTEN_OFF":
        raise Refused("writing off an amount is a proposal for an approver: propose it")
    closure = Closure(reason, cmd.by, cmd.at, note=cmd.note)
    return replace(wf, closure=closure, in_review=False)


def _propose(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "propose to close")
    _current(cmd, version)
    if wf.proposal is not None:
        raise Refused(f"a proposal by {wf.proposal.by} is pending already")
    action = cmd.proposal or ProposalAction.CLOSE
    reason = _required(cmd.reason, "a reason code")
    if action is ProposalAction.WRITE_OFF and (cmd.amount is None or cmd.amount <= 0):
        raise Incomplete("a write-off needs a positive amount")
    proposal = Proposal(action, reason, cmd.by, cmd.at, version, note=cmd.note, amount=cmd.amount)
    return replace(wf, proposal=proposal)


def _decide_proposal(wf: Workflow, cmd: Command, what: str) -> Proposal:
    if wf.proposal is None:
        raise Refused(f"there is no pending proposal to {what}")
    if wf.proposal.by == cmd.by:
        raise Refused(f"nobody {what}s their own proposal ({cmd.by} proposed it)")
    return wf.proposal


def _approve(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    proposal = _decide_proposal(wf, cmd, "approve")
    _unsettled(status, "approve a close of")
    if proposal.version != version:
        raise Refused("the break changed since the proposal: it needs a new one")
    if proposal.action is ProposalAction.WRITE_OFF:  # the reason code says why it was written off
        note = f"{proposal.reason}: {proposal.note}" if proposal.note else proposal.reason
        closure = Closure("WRITTEN_OFF", proposal.by, cmd.at, note, cmd.by, proposal.amount)
    else:
        closure = Closure(proposal.reason, proposal.by, cmd.at, proposal.note, cmd.by)
    return replace(wf, closure=closure, proposal=None, in_review=False)


def _reject(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _decide_proposal(wf, cmd, "reject")
    _required(cmd.reason, "a reason")
    return replace(wf, proposal=None)


def _reopen(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    # The owner cannot tell an auto-closed break (attribution closes it) from an open one:
    # reopening one that is not closed only keeps The Discriminator from closing it.
    if status is Status.RESOLVED:
        raise Refused("a RESOLVED break agrees in its data: there is nothing to reopen")
    _required(cmd.reason, "a reason")
    return replace(wf, closure=None, keep_open=True)


def _comment(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _required(cmd.text, "the comment's text")
    return wf


def _tag(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    tags = (set(wf.tags) | {t.strip() for t in cmd.add if t.strip()}) - set(cmd.remove)
    if len(tags) > MAX_TAGS:
        raise Incomplete(f"a break has at most {MAX_TAGS} tags")
    return replace(wf, tags=tuple(sorted(tags)))


def _label(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    if cmd.cause not in CAUSES:
        raise Incomplete(f"unknown cause {cmd.cause!r}")
    wf = replace(wf, cause=Override(cmd.cause, cmd.by, cmd.reason))
    if cmd.disposition is not None:
        return _reverse(wf, status, version, cmd)
    return wf


def _reverse(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    if cmd.disposition not in DISPOSITIONS:
        raise Incomplete(f"unknown disposition {cmd.disposition!r}")
    return replace(wf, disposition=Override(cmd.disposition, cmd.by, cmd.reason))


def _escalate(wf: Workflow, status: Status, version: int, cmd: Command) -> Workflow:
    _unsettled(status, "escalate")
    return replace(wf, disposition=Override("ESCALATE", cmd.by, cmd.reason))


_RULES = {
    Action.TAKE: _take,
    Action.RELEASE: _release,
    Action.ASSIGN: _assign,
    Action.REVIEW: _review,
    Action.CLOSE: _close,
    Action.PROPOSE: _propose,
    Action.APPROVE: _approve,
    Action.REJECT: _reject,
    Action.REOPEN: _reopen,
    Action.COMMENT: _comment,
    Action.TAG: _tag,
    Action.LABEL: _label,
    Action.REVERSE: _reverse,
    Action.ESCALATE: _escalate,
}


# --- the workflow as fields of the Break contract (the Avro datum, the stored row, the API) --


def break_fields(wf: Workflow | None) -> dict[str, Any]:
    """The Break fields that carry a workflow (all of them, empty for None)."""
    wf = wf or Workflow()
    c, p, a = wf.closure, wf.proposal, wf.activity
    return {
        "revision": wf.revision,
        "owner": wf.owner,
        "tags": list(wf.tags),
        "close_reason": c.reason if c else None,
        "close_note": c.note if c else None,
        "closed_by": c.by if c else None,
        "closed_at": c.at if c else None,
        "approved_by": c.approved_by if c else None,
        "written_off": _text(c.written_off) if c else None,
        "keep_open": wf.keep_open,
        "proposal": None
        if p is None
        else {
            "action": p.action.value,
            "reason": p.reason,
            "note": p.note,
            "amount": _text(p.amount),
            "by": p.by,
            "at": p.at,
            "version": p.version,
        },
        "analyst_cause": _override(wf.cause),
        "analyst_disposition": _override(wf.disposition),
        "activity": None
        if a is None
        else {
            "command_id": a.command_id,
            "action": a.action.value,
            "by": a.by,
            "at": a.at,
            "to": a.to,
            "reason": a.reason,
            "note": a.note,
            "text": a.text,
        },
    }


def from_break_fields(b: Mapping[str, Any]) -> Workflow:
    """The workflow of a Break datum or a stored break (what :func:`apply` needs of it; the
    last activity is not read back)."""
    closure = None
    if b.get("closed_by") and b.get("close_reason"):  # a person's close (auto: has no one)
        closure = Closure(
            b["close_reason"],
            b["closed_by"],
            b["closed_at"],
            note=b.get("close_note"),
            approved_by=b.get("approved_by"),
            written_off=_decimal(b.get("written_off")),
        )
    p = b.get("proposal")
    proposal = None
    if p:
        proposal = Proposal(
            ProposalAction(p["action"]),
            p["reason"],
            p["by"],
            _instant(p["at"]),
            int(p["version"]),
            note=p.get("note"),
            amount=_decimal(p.get("amount")),
        )
    return Workflow(
        revision=int(b.get("revision") or 0),
        owner=b.get("owner"),
        in_review=b.get("status") == Status.IN_REVIEW,
        closure=closure,
        keep_open=bool(b.get("keep_open")),
        proposal=proposal,
        tags=tuple(b.get("tags") or ()),
        cause=_read_override(b.get("analyst_cause")),
        disposition=_read_override(b.get("analyst_disposition")),
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _override(o: Override | None) -> dict[str, Any] | None:
    return None if o is None else {"value": o.value, "by": o.by, "reason": o.reason}


def _read_override(o: Mapping[str, Any] | None) -> Override | None:
    return None if not o else Override(o["value"], o["by"], o.get("reason"))
