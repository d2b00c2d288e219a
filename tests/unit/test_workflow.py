"""The exception workflow's rules (pure): what each action does, what it refuses, and how a
break's data and its workflow meet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from streams.domain.vocabulary import Status
from streams.domain.workflow import (
    Action,
    Command,
    ProposalAction,
    Refused,
    Workflow,
    apply,
    auto_closed,
    break_fields,
    from_break_fields,
    on_new_data,
    status_of,
)

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def cmd(action: Action, by: str = "mark", **fields: object) -> Command:
    return Command(f"c-{action.value}-{by}", action, by, AT, **fields)  # type: ignore[arg-type]


def proposed(by: str = "mark", **fields: object) -> Workflow:
    asked = {"reason": "TIMING_ACCEPTED", "version": 3} | fields
    return apply(None, Status.OPEN, 3, cmd(Action.PROPOSE, by, **asked))


def test_every_accepted_action_is_a_new_revision_carrying_it() -> None:
    wf = apply(None, Status.OPEN, 1, cmd(Action.TAKE))
    wf = apply(wf, Status.OPEN, 1, cmd(Action.COMMENT, text="looking"))
    assert wf.revision == 2
    assert wf.activity is not None and wf.activity.text == "looking"
    assert wf.owner == "mark"


@pytest.mark.parametrize(
    ("action", "fields", "owner", "in_review"),
    [
        (Action.TAKE, {}, "mark", False),
        (Action.ASSIGN, {"to": "chloe"}, "chloe", False),
        (Action.ASSIGN, {"to": "team:fx-desk"}, "team:fx-desk", False),
        (Action.REVIEW, {}, "mark", True),
    ],
)
def test_ownership_and_review(
    action: Action, fields: dict[str, str], owner: str, in_review: bool
) -> None:
    wf = apply(None, Status.OPEN, 1, cmd(action, **fields))
    assert (wf.owner, wf.in_review) == (owner, in_review)
    assert status_of(Status.OPEN, wf) is (Status.IN_REVIEW if in_review else Status.OPEN)


def test_release_returns_a_break_to_the_queue() -> None:
    wf = apply(None, Status.OPEN, 1, cmd(Action.REVIEW))
    wf = apply(wf, Status.IN_REVIEW, 1, cmd(Action.RELEASE))
    assert (wf.owner, wf.in_review) == (None, False)
    with pytest.raises(Refused, match="no owner"):
        apply(wf, Status.OPEN, 1, cmd(Action.RELEASE))


@pytest.mark.parametrize(
    ("status", "action", "fields", "why"),
    [
        (Status.RESOLVED, Action.TAKE, {}, "cannot take a RESOLVED break"),
        (Status.CLOSED, Action.ASSIGN, {"to": "x"}, "cannot assign a CLOSED break"),
        (Status.OPEN, Action.ASSIGN, {}, "whom to assign it to is required"),
        (Status.OPEN, Action.ASSIGN, {"to": "team: "}, "team:<name>"),
        (Status.IN_REVIEW, Action.REVIEW, {}, "only an OPEN break goes into review"),
        (Status.OPEN, Action.CLOSE, {}, "a reason code is required"),
        (Status.OPEN, Action.CLOSE, {"reason": "WRITTEN_OFF"}, "propose it"),
        (Status.RESOLVED, Action.CLOSE, {"reason": "OTHER"}, "cannot close a RESOLVED"),
        (Status.OPEN, Action.PROPOSE, {"reason": " "}, "a reason code is required"),
        (
            Status.OPEN,
            Action.PROPOSE,
            {"reason": "OTHER", "proposal": ProposalAction.WRITE_OFF},
            "a write-off needs a positive amount",
        ),
        (Status.OPEN, Action.APPROVE, {}, "no pending proposal"),
        (Status.OPEN, Action.REJECT, {}, "no pending proposal"),
        (Status.RESOLVED, Action.REOPEN, {"reason": "x"}, "nothing to reopen"),
        (Status.CLOSED, Action.REOPEN, {}, "a reason is required"),
        (Status.OPEN, Action.COMMENT, {"text": "  "}, "text is required"),
        (Status.OPEN, Action.LABEL, {"cause": "GREMLINS"}, "unknown cause"),
        (Status.OPEN, Action.REVERSE, {"disposition": "IGNORE"}, "unknown disposition"),
        (Status.CLOSED, Action.ESCALATE, {}, "cannot escalate a CLOSED break"),
    ],
)
def test_what_each_action_refuses(
    status: Status, action: Action, fields: dict[str, object], why: str
) -> None:
    with pytest.raises(Refused, match=why):
        apply(None, status, 1, cmd(action, **fields))


def test_a_close_with_a_reason_code_and_a_note() -> None:
    wf = apply(None, Status.OPEN, 2, cmd(Action.CLOSE, reason="DUPLICATE", note="booked twice"))
    assert status_of(Status.OPEN, wf) is Status.CLOSED
    assert wf.closure is not None
    assert (wf.closure.reason, wf.closure.note, wf.closure.by) == (
        "DUPLICATE",
        "booked twice",
        "mark",
    )


def test_close_propose_and_approve_are_for_the_data_version_seen() -> None:
    with pytest.raises(Refused, match="version 1 was seen, it is at 2"):
        apply(None, Status.OPEN, 2, cmd(Action.CLOSE, reason="OTHER", version=1))
    wf = proposed()
    with pytest.raises(Refused, match="changed since the proposal"):
        apply(wf, Status.OPEN, 4, cmd(Action.APPROVE, "chloe"))


def test_maker_checker_nobody_approves_or_rejects_their_own_proposal() -> None:
    wf = proposed(by="mark")
    for action in (Action.APPROVE, Action.REJECT):
        with pytest.raises(Refused, match="own proposal"):
            apply(wf, Status.OPEN, 3, cmd(action, "mark", reason="x"))
    with pytest.raises(Refused, match="pending already"):
        apply(wf, Status.OPEN, 3, cmd(Action.PROPOSE, "ana", reason="OTHER"))
    with pytest.raises(Refused, match="pending: approve or reject it first"):
        apply(wf, Status.OPEN, 3, cmd(Action.CLOSE, "ana", reason="OTHER"))


def test_an_approved_proposal_closes_the_break_in_the_makers_name() -> None:
    wf = apply(proposed(note="custodian late"), Status.OPEN, 3, cmd(Action.APPROVE, "chloe"))
    assert wf.proposal is None and wf.closure is not None
    assert (wf.closure.reason, wf.closure.by, wf.closure.approved_by, wf.closure.note) == (
        "TIMING_ACCEPTED",
        "mark",
        "chloe",
        "custodian late",
    )


def test_an_approved_write_off_closes_as_written_off_with_its_amount() -> None:
    wf = proposed(proposal=ProposalAction.WRITE_OFF, amount=Decimal("12.50"), reason="OTHER")
    wf = apply(wf, Status.OPEN, 3, cmd(Action.APPROVE, "chloe"))
    assert wf.closure is not None
    assert (wf.closure.reason, wf.closure.written_off, wf.closure.note) == (
        "WRITTEN_OFF",
        Decimal("12.50"),
        "OTHER",
    )


def test_a_rejected_proposal_is_withdrawn_and_the_break_stays_open() -> None:
    wf = apply(proposed(), Status.OPEN, 3, cmd(Action.REJECT, "chloe", reason="not timing"))
    assert wf.proposal is None and status_of(Status.OPEN, wf) is Status.OPEN


def test_reopening_undoes_a_close_and_keeps_the_discriminator_from_closing_it() -> None:
    wf = apply(None, Status.OPEN, 1, cmd(Action.CLOSE, reason="OTHER"))
    wf = apply(wf, Status.CLOSED, 1, cmd(Action.REOPEN, reason="not settled"))
    assert status_of(Status.OPEN, wf) is Status.OPEN and wf.keep_open
    assert not auto_closed("OPEN", wf.keep_open, "AUTO_CLOSE")


def test_new_data_reopens_a_closed_break_and_withdraws_a_proposal() -> None:
    closed = apply(None, Status.OPEN, 1, cmd(Action.CLOSE, reason="OTHER"))
    assert status_of(Status.OPEN, on_new_data(closed)) is Status.OPEN
    changed = on_new_data(proposed())
    assert changed is not None and changed.proposal is None and changed.activity is None
    assert status_of(Status.RESOLVED, closed) is Status.RESOLVED  # the data settles it


def test_tags_are_a_sorted_set() -> None:
    wf = apply(None, Status.OPEN, 1, cmd(Action.TAG, add=("fx", "urgent", "fx")))
    wf = apply(wf, Status.OPEN, 1, cmd(Action.TAG, add=("eod",), remove=("urgent",)))
    assert wf.tags == ("eod", "fx")
    with pytest.raises(Refused, match="at most 20 tags"):
        apply(wf, Status.OPEN, 1, cmd(Action.TAG, add=tuple(f"t{n}" for n in range(20))))


def test_labels_reversals_and_escalations_are_words_over_attribution() -> None:
    wf = apply(None, Status.OPEN, 1, cmd(Action.LABEL, cause="FX", disposition="QUEUE"))
    assert wf.cause is not None and wf.disposition is not None
    assert (wf.cause.value, wf.cause.by, wf.disposition.value) == ("FX", "mark", "QUEUE")
    wf = apply(wf, Status.OPEN, 1, cmd(Action.ESCALATE, "scheduler", reason="cut-off"))
    assert wf.disposition is not None and wf.disposition.value == "ESCALATE"


def test_the_workflow_round_trips_through_the_breaks_fields() -> None:
    wf = proposed(proposal=ProposalAction.WRITE_OFF, amount=Decimal("3.10"), reason="OTHER")
    wf = apply(wf, Status.OPEN, 3, cmd(Action.TAG, add=("x",)))
    fields = break_fields(wf) | {"status": "OPEN"}
    back = from_break_fields(fields)
    assert (back.proposal, back.tags, back.revision) == (wf.proposal, wf.tags, wf.revision)
    approved = apply(wf, Status.OPEN, 3, cmd(Action.APPROVE, "chloe"))
    back = from_break_fields(break_fields(approved) | {"status": "CLOSED"})
    assert back.closure == approved.closure
    # an auto-close has no one behind it: not a person's closure
    auto = {"status": "CLOSED", "close_reason": "auto:ROUNDING", "closed_at": AT}
    assert from_break_fields(auto).closure is None


def test_a_proposal_keeps_its_moment_through_json() -> None:
    wf = proposed()
    fields = break_fields(wf)
    fields["proposal"]["at"] = (AT + timedelta(seconds=1)).isoformat()  # as PostgreSQL's jsonb
    back = from_break_fields(fields | {"status": "OPEN"})
    assert back.proposal is not None and back.proposal.at == AT + timedelta(seconds=1)
