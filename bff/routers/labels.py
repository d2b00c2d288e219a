"""Analyst feedback over HTTP: label breaks, reverse an automatic decision, see decisions.

A label or a reversal is an action on the break like any other (:mod:`bff.actions`): checked,
audited (one entry per break), sent to the break's owner and to the feedback topic the model
learns from. These routes wait (up to ``LABEL_WAIT`` seconds) for the break's new revision and
answer what it says; ``greenai breaks label|reverse`` calls them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from bff.actions import Asked
from bff.deps import Audit, Labeller, VisibleBreak
from bff.routers import COMMON
from bff.routers.workflow import send
from streams.attribution.decisions import COLUMNS
from streams.domain.vocabulary import CAUSES
from streams.domain.workflow import Action
from streams.store.breaks import get_breaks

router = APIRouter(prefix="/api/breaks", tags=["feedback"], responses=COMMON)

LABEL_WAIT = 15.0  # seconds a label waits for the break's new revision
Cause = Literal[CAUSES]  # type: ignore[valid-type]
Disposition = Literal["AUTO_CLOSE", "QUEUE", "ESCALATE"]
Reason = Annotated[str, Field(max_length=2000)]
BreakId = Annotated[str, Field(max_length=100)]


class LabelIn(BaseModel):
    cause: Cause
    disposition: Disposition | None = None
    reason: Reason | None = None


class OneLabel(BaseModel):
    break_id: BreakId
    cause: Cause


class LabelsIn(BaseModel):
    labels: list[OneLabel] = Field(min_length=1, max_length=10_000)
    disposition: Disposition | None = None
    reason: Reason | None = None


class ReverseIn(BaseModel):
    disposition: Disposition = "QUEUE"
    reason: Reason | None = None


class OutcomeOut(BaseModel):
    break_id: str
    cause: str | None
    disposition: str | None
    reversed: bool  # an automatic disposition was changed
    previous_cause: str | None
    previous_disposition: str | None
    applied: bool = True  # False: not stored yet within the wait (it still will be)


async def _feedback(
    request: Request, who: Any, audit: Any, asked: list[tuple[str, Asked]]
) -> list[OutcomeOut]:
    """Send the labels or reversals (all checked before any is sent), wait for the breaks'
    revisions and say what they did."""
    wait = LABEL_WAIT + len(asked) / 1000
    planned, accepted = await send(request, who, audit, asked, wait)
    now = await get_breaks(request.app.state.pool, [p.row["break_id"] for p in planned])
    out = []
    for p, a in zip(planned, accepted, strict=True):
        was, is_ = p.row, now.get(a.break_id, p.row)
        done = a.applied
        out.append(
            OutcomeOut(
                break_id=a.break_id,
                cause=is_["cause"] if done else p.command.cause or was["cause"],
                disposition=is_["disposition"] if done else was["disposition"],
                reversed=done
                and was["disposition"] is not None
                and is_["disposition"] != was["disposition"],
                previous_cause=was["cause"],
                previous_disposition=was["disposition"],
                applied=done,
            )
        )
    return out


def _label(cause: str, disposition: str | None, reason: str | None) -> Asked:
    return Asked(Action.LABEL, cause=cause, disposition=disposition, reason=reason)


@router.post("/{break_id}/label", response_model=OutcomeOut)
async def label(
    request: Request, break_id: str, body: LabelIn, who: Labeller, audit: Audit
) -> OutcomeOut:
    """Teach the model this break's cause; a changed disposition reverses the decision."""
    (outcome,) = await _feedback(
        request, who, audit, [(break_id, _label(body.cause, body.disposition, body.reason))]
    )
    return outcome


@router.post("/labels", response_model=list[OutcomeOut])
async def label_many(
    request: Request, body: LabelsIn, who: Labeller, audit: Audit
) -> list[OutcomeOut]:
    """Many labels at once: all are checked before any is given."""
    asked = [(i.break_id, _label(i.cause, body.disposition, body.reason)) for i in body.labels]
    return await _feedback(request, who, audit, asked)


@router.post("/{break_id}/reverse", response_model=OutcomeOut)
async def reverse(
    request: Request, break_id: str, body: ReverseIn, who: Labeller, audit: Audit
) -> OutcomeOut:
    """Override the Discriminator's disposition (kept for the break's later versions)."""
    asked = Asked(Action.REVERSE, disposition=body.disposition, reason=body.reason)
    (outcome,) = await _feedback(request, who, audit, [(break_id, asked)])
    return outcome


@router.get("/{break_id}/decisions")
async def decisions(request: Request, row: VisibleBreak) -> list[dict[str, Any]]:
    """Every decision recorded for the break's versions, with any reversal."""
    async with (
        request.app.state.pool.connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(
            f"SELECT {COLUMNS} FROM decisions WHERE break_id = %s ORDER BY version",
            [row["break_id"]],
        )
        return await cur.fetchall()
