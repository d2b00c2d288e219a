"""``/api/alerts``: who is told of alerts (webhook or e-mail subscriptions) and how each
telling went — for admins; every change in the audit trail (never a webhook's secret)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator

from bff.deps import Admin, Audit, Pool, actor
from bff.routers import COMMON, problems
from streams.notify import store

router = APIRouter(tags=["alerts"], responses=COMMON)
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@+-]+$")]
Word = Annotated[str, Field(min_length=1, max_length=200)]
SEVERITIES = ("INFO", "WARNING", "CRITICAL")


class SubscriptionIn(BaseModel):
    name: Name
    channel: Literal["webhook", "email"]
    target: str = Field(min_length=3, max_length=2000, description="the URL or the address")
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="webhook: default generated"
    )
    recons: list[Word] | None = None  # None: every recon
    severities: list[Literal["INFO", "WARNING", "CRITICAL"]] | None = None
    kinds: list[Word] | None = None

    @model_validator(mode="after")
    def _target_fits_channel(self) -> SubscriptionIn:
        if self.channel == "webhook":
            try:
                url = httpx.URL(self.target)
                url.port  # noqa: B018  # a port that is not a number raises here
            except (httpx.InvalidURL, ValueError, TypeError):
                raise ValueError("a webhook's target is an http(s) URL") from None
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError("a webhook's target is an http(s) URL")
        if self.channel == "email":
            if "@" not in self.target or any(c in self.target for c in " ,;<>\r\n"):
                raise ValueError("an e-mail subscription's target is one address")
            if self.secret is not None:
                raise ValueError("only a webhook has a secret")
        return self


@dataclass(frozen=True)
class NewSubscription(store.AlertSubscription):
    secret: str | None = None  # the webhook's signing key, shown once


class DeliveryOut(BaseModel):
    subscription: str
    alert_id: str
    attempt: int
    outcome: Literal["DELIVERED", "FAILED", "DEAD"]
    detail: str
    at: datetime


@router.get("/api/alerts/subscriptions", response_model=list[store.AlertSubscription])
async def list_subscriptions(
    who: Admin, pool: Pool, ended: bool = Query(False, description="include ended ones")
) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return [asdict(s) for s in await store.listing(conn, ended=ended)]


@router.post(
    "/api/alerts/subscriptions",
    response_model=NewSubscription,
    status_code=201,
    responses=problems(409),
)
async def subscribe(body: SubscriptionIn, who: Admin, pool: Pool, audit: Audit) -> dict[str, Any]:
    secret = body.secret
    if body.channel == "webhook" and secret is None:
        secret = secrets.token_urlsafe(32)
    async with pool.connection() as conn, conn.transaction():
        made = await store.subscribe(
            conn,
            name=body.name,
            channel=body.channel,
            target=body.target,
            secret=secret,
            recons=body.recons,
            severities=None if body.severities is None else [str(s) for s in body.severities],
            kinds=body.kinds,
            created_by=who.name,
        )
        if made is None:
            raise HTTPException(409, f"a subscription named {body.name} exists")
        shown = asdict(made)
        await audit(
            conn,
            actor(who),
            "alert_subscription.create",
            target=("alert_subscription", made.name),
            after={k: v for k, v in shown.items() if k not in ("created_at", "ended_at")},
        )
    return shown | {"secret": secret}


@router.delete("/api/alerts/subscriptions/{name}", status_code=204, responses=problems(404))
async def unsubscribe(name: str, who: Admin, pool: Pool, audit: Audit) -> Response:
    """End a subscription: nothing more is sent to it; its delivery log stays."""
    async with pool.connection() as conn, conn.transaction():
        if await store.end(conn, name) is None:
            raise HTTPException(404, f"no active subscription {name}")
        await audit(conn, actor(who), "alert_subscription.end", target=("alert_subscription", name))
    return Response(status_code=204)


@router.get("/api/alerts/deliveries", response_model=list[DeliveryOut])
async def deliveries(
    who: Admin,
    pool: Pool,
    subscription: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    """The newest delivery attempts, newest first (one subscription's, or all)."""
    async with pool.connection() as conn:
        return await store.deliveries(conn, subscription, limit)
