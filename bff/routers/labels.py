"""Analyst feedback over HTTP: label a break, reverse an automatic decision, see decisions.

Both actions go to the Kafka feedback topic (every attribution worker learns from it) and
update the stored break at once; the work is the same as ``greenai breaks label|reverse``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from streams.attribution.analyst import Analyst, Outcome
from streams.attribution.decisions import COLUMNS
from streams.attribution.feedback import BadFeedback
from streams.attribution.taxonomy import CAUSES

router = APIRouter(prefix="/api/breaks", tags=["feedback"])

Cause = Literal[CAUSES]  # type: ignore[valid-type]
Disposition = Literal["AUTO_CLOSE", "QUEUE", "ESCALATE"]


Reason = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(max_length=200)]


class LabelIn(BaseModel):
    cause: Cause
    disposition: Disposition | None = None
    reason: Reason | None = None
    analyst: Name | None = None


class ReverseIn(BaseModel):
    disposition: Disposition = "QUEUE"
    reason: Reason | None = None
    analyst: Name | None = None


class OutcomeOut(BaseModel):
    break_id: str
    cause: str | None
    disposition: str | None
    reversed: bool
    previous_cause: str | None
    previous_disposition: str | None


def _analyst(request: Request, given: str | None) -> Analyst:
    who = given or request.headers.get("x-greenai-user") or "api"
    return Analyst(request.app.state.settings, who, "api")


def _http(exc: BadFeedback) -> HTTPException:
    text = str(exc)
    return HTTPException(404 if text.startswith("no break") else 422, text)


@router.post("/{break_id}/label", response_model=OutcomeOut)
async def label(request: Request, break_id: str, body: LabelIn) -> Outcome:
    """Teach the model this break's cause; a changed disposition reverses the decision."""
    analyst = _analyst(request, body.analyst)
    try:
        (outcome,) = await asyncio.to_thread(
            analyst.label,
            [(break_id, body.cause)],
            disposition=body.disposition,
            reason=body.reason,
        )
    except BadFeedback as exc:
        raise _http(exc) from None
    return outcome


@router.post("/{break_id}/reverse", response_model=OutcomeOut)
async def reverse(request: Request, break_id: str, body: ReverseIn) -> Outcome:
    """Override the Discriminator's disposition (kept for the break's later versions)."""
    analyst = _analyst(request, body.analyst)
    try:
        return await asyncio.to_thread(analyst.reverse, break_id, body.disposition, body.reason)
    except BadFeedback as exc:
        raise _http(exc) from None


@router.get("/{break_id}/decisions")
async def decisions(request: Request, break_id: str) -> list[dict[str, Any]]:
    """Every decision recorded for the break's versions, with any reversal."""
    async with (
        request.app.state.pool.connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(
            f"SELECT {COLUMNS} FROM decisions WHERE break_id = %s ORDER BY version", [break_id]
        )
        return await cur.fetchall()
