"""Analyst feedback over HTTP: label breaks, reverse an automatic decision, see decisions.

Both actions go to the Kafka feedback topic (every attribution worker learns from it) and
update the stored break at once; the work is the same as ``greenai breaks label|reverse``,
which calls these routes. The analyst is the signed-in user (or the token's); each action
is one audit entry per break, before → after.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from bff.auth.principal import Principal
from bff.deps import Audit, Labeller, Pool, Reader, actor
from bff.routers import COMMON
from bff.store.breaks import get_break
from streams.attribution.analyst import Analyst, Outcome
from streams.attribution.decisions import COLUMNS
from streams.attribution.feedback import BadFeedback
from streams.domain.vocabulary import CAUSES

router = APIRouter(prefix="/api/breaks", tags=["feedback"], responses=COMMON)

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
    reversed: bool
    previous_cause: str | None
    previous_disposition: str | None


def _http(exc: BadFeedback) -> HTTPException:
    text = str(exc)
    return HTTPException(404 if text.startswith("no break") else 400, text)


async def _visible(request: Request, who: Principal, break_ids: list[str]) -> dict[str, str]:
    """The recon of each break, 404 for one the principal does not see (or that is not)."""
    found = {}
    for break_id in break_ids:
        row = await get_break(request.app.state.pool, break_id)
        if row is None or not who.sees(row["recon"]):
            raise HTTPException(404, f"no break {break_id}")
        found[break_id] = row["recon"]
    return found


async def _label(
    request: Request,
    who: Principal,
    pool: Any,
    audit: Any,
    labels: list[tuple[str, str]],
    disposition: str | None,
    reason: str | None,
) -> list[Outcome]:
    recons = await _visible(request, who, [b for b, _ in labels])
    analyst = Analyst(request.app.state.settings, who.name, "api")
    try:
        outcomes = await asyncio.to_thread(
            analyst.label, labels, disposition=disposition, reason=reason
        )
    except BadFeedback as exc:
        raise _http(exc) from None
    async with pool.connection() as conn, conn.transaction():
        for o in outcomes:
            await audit(
                conn,
                actor(who),
                "break.label",
                target=("break", o.break_id),
                recon=recons[o.break_id],
                before={"cause": o.previous_cause, "disposition": o.previous_disposition},
                after={"cause": o.cause, "disposition": o.disposition, "reason": reason},
            )
    return outcomes


@router.post("/{break_id}/label", response_model=OutcomeOut)
async def label(
    request: Request, break_id: str, body: LabelIn, who: Labeller, pool: Pool, audit: Audit
) -> Outcome:
    """Teach the model this break's cause; a changed disposition reverses the decision."""
    (outcome,) = await _label(
        request, who, pool, audit, [(break_id, body.cause)], body.disposition, body.reason
    )
    return outcome


@router.post("/labels", response_model=list[OutcomeOut])
async def label_many(
    request: Request, body: LabelsIn, who: Labeller, pool: Pool, audit: Audit
) -> list[Outcome]:
    """Many labels at once: all are checked before any is given."""
    labels = [(item.break_id, item.cause) for item in body.labels]
    return await _label(request, who, pool, audit, labels, body.disposition, body.reason)


@router.post("/{break_id}/reverse", response_model=OutcomeOut)
async def reverse(
    request: Request, break_id: str, body: ReverseIn, who: Labeller, pool: Pool, audit: Audit
) -> Outcome:
    """Override the Discriminator's disposition (kept for the break's later versions)."""
    recons = await _visible(request, who, [break_id])
    analyst = Analyst(request.app.state.settings, who.name, "api")
    try:
        outcome = await asyncio.to_thread(analyst.reverse, break_id, body.disposition, body.reason)
    except BadFeedback as exc:
        raise _http(exc) from None
    async with pool.connection() as conn, conn.transaction():
        await audit(
            conn,
            actor(who),
            "break.reverse",
            target=("break", break_id),
            recon=recons[break_id],
            before={"disposition": outcome.previous_disposition},
            after={"disposition": outcome.disposition, "reason": body.reason},
        )
    return outcome


@router.get("/{break_id}/decisions")
async def decisions(request: Request, break_id: str, who: Reader) -> list[dict[str, Any]]:
    """Every decision recorded for the break's versions, with any reversal."""
    await _visible(request, who, [break_id])
    async with (
        request.app.state.pool.connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(
            f"SELECT {COLUMNS} FROM decisions WHERE break_id = %s ORDER BY version", [break_id]
        )
        return await cur.fetchall()
