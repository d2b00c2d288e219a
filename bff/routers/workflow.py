"""The exception workflow over HTTP: actions on one break or a selection, the comment thread,
a break's history and the approval queue.

An action is accepted (202) once it is checked, audited and in Kafka; it is applied by the
break's owner and arrives as the break's next revision over the live stream. With
``?wait=S`` the response waits up to S seconds for that revision to be stored and says
whether it was (``applied``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bff.actions import Asked, Planned, Refusal, plan_all, wait_applied
from bff.audit.trail import Recorder
from bff.auth.permissions import Permission
from bff.auth.principal import Principal
from bff.deps import Audit, Pool, Reader, VisibleBreak, actor
from bff.models import BreakOut
from bff.routers import COMMON, problems
from streams.domain.workflow import Action, ProposalAction
from streams.store.breaks import comments, history, pending_proposals

router = APIRouter(prefix="/api", tags=["workflow"], responses=COMMON)

ActionName = Literal[
    "take",
    "release",
    "assign",
    "review",
    "close",
    "propose",
    "approve",
    "reject",
    "reopen",
    "comment",
    "tag",
    "label",
    "reverse",
]
Text = Annotated[str, Field(max_length=2000)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
MAX_BULK = 1000
Wait = Annotated[float, Query(ge=0, le=30, description="seconds to wait for the revision")]


class ActionIn(BaseModel):
    """One action; only the fields it uses (``to`` for assign, ``reason`` for close,
    propose, reject and reopen, ``text`` for comment, ``add``/``remove`` for tag, ``cause``
    for label, ``disposition`` for label and reverse, ``proposal`` and ``amount`` for
    propose)."""

    model_config = ConfigDict(extra="forbid")

    action: ActionName
    to: Annotated[str, Field(max_length=200)] | None = None
    reason: Text | None = None
    note: Text | None = None
    text: Annotated[str, Field(max_length=4000)] | None = None
    add: list[Tag] = Field(default_factory=list, max_length=20)
    remove: list[Tag] = Field(default_factory=list, max_length=20)
    proposal: Literal["CLOSE", "WRITE_OFF"] | None = None
    amount: Decimal | None = Field(default=None, max_digits=40)
    cause: str | None = Field(default=None, max_length=40)
    disposition: Literal["AUTO_CLOSE", "QUEUE", "ESCALATE"] | None = None

    def asked(self) -> Asked:
        return Asked(
            Action(self.action.upper()),
            to=self.to,
            reason=self.reason,
            note=self.note,
            text=self.text,
            add=tuple(self.add),
            remove=tuple(self.remove),
            proposal=ProposalAction(self.proposal) if self.proposal else None,
            amount=self.amount,
            cause=self.cause,
            disposition=self.disposition,
        )


class BulkIn(ActionIn):
    break_ids: list[Annotated[str, Field(max_length=100)]] = Field(
        min_length=1, max_length=MAX_BULK
    )


class AcceptedOut(BaseModel):
    break_id: str
    command_id: str
    action: str
    applied: bool = False  # its revision is stored (only looked for with ?wait)


class BulkOut(BaseModel):
    accepted: list[AcceptedOut]


class CommentOut(BaseModel):
    revision: int
    by: str
    at: datetime
    text: str


class ChangeOut(BaseModel):
    """One stored change of a break: the data's (action null) or a person's action."""

    version: int
    revision: int
    status: str
    owner: str | None
    cause: str | None
    disposition: str | None
    close_reason: str | None
    action: str | None
    by: str | None
    text: str | None
    reason: str | None
    note: str | None
    assignee: str | None
    at: datetime


async def send(
    request: Request, who: Principal, audit: Recorder, asked: list[tuple[str, Asked]], wait: float
) -> tuple[list[Planned], list[AcceptedOut]]:
    """Check every action (all or nothing), send them, and with ``wait`` wait for their
    revisions; a refusal is its HTTP error."""
    state = request.app.state
    try:
        planned = await plan_all(state.pool, state.recons, who, asked)
    except Refusal as exc:
        raise HTTPException(exc.status, exc.detail) from None
    accepted = await state.sender.submit(state.pool, audit, actor(who), planned)
    applied: set[str] = set()
    if wait > 0:
        applied = await wait_applied(state.pool, [a.command_id for a in accepted], wait)
    out = [
        AcceptedOut(
            break_id=a.break_id,
            command_id=a.command_id,
            action=a.action,
            applied=a.command_id in applied,
        )
        for a in accepted
    ]
    return planned, out


@router.post(
    "/breaks/{break_id}/actions",
    status_code=202,
    response_model=AcceptedOut,
    responses=problems(409),
)
async def act(
    request: Request, break_id: str, body: ActionIn, who: Reader, audit: Audit, wait: Wait = 0
) -> AcceptedOut:
    """Take, release, assign, review, close, propose, approve, reject, reopen, comment,
    tag, label or reverse one break. 409: the break does not take the action now (the
    reason says why; a close above the approval threshold needs approval: propose it)."""
    _, (accepted,) = await send(request, who, audit, [(break_id, body.asked())], wait)
    return accepted


@router.post("/breaks/actions", status_code=202, response_model=BulkOut, responses=problems(409))
async def act_on_many(
    request: Request, body: BulkIn, who: Reader, audit: Audit, wait: Wait = 0
) -> BulkOut:
    """One action on a selection of up to 1000 breaks: all are checked before any is sent;
    one audit entry per break."""
    asked = body.asked()
    _, accepted = await send(request, who, audit, [(b, asked) for b in body.break_ids], wait)
    return BulkOut(accepted=accepted)


@router.get("/breaks/{break_id}/comments", response_model=list[CommentOut])
async def comment_thread(row: VisibleBreak, pool: Pool) -> Any:
    """The break's comments, oldest first."""
    return await comments(pool, row["break_id"])


@router.get("/breaks/{break_id}/history", response_model=list[ChangeOut])
async def changes(row: VisibleBreak, pool: Pool) -> Any:
    """Every stored change of the break, oldest first: the data's and people's."""
    return await history(pool, row["break_id"])


@router.get("/approvals", response_model=list[BreakOut])
async def approvals(request: Request, who: Reader, pool: Pool) -> list[BreakOut]:
    """Breaks with a proposal awaiting an approver, newest first (approvers only)."""
    if not who.may(Permission.APPROVE):
        raise HTTPException(403, "this needs the approve permission")
    recons = request.app.state.recons
    return [
        BreakOut.from_datum(r, await recons.rules(r["recon"]))
        for r in await pending_proposals(pool, who.recons)
    ]
