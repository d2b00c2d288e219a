"""SQL of ``alert_subscriptions`` (written by the BFF) and ``alert_deliveries`` (written by
the notifier): the one module that holds either table's statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row

from streams.notify.subscriptions import Channel, Subscription

SUBSCRIPTION = "subscription_id, name, channel, target, secret, recons, severities, kinds"
Outcome = str  # DELIVERED | FAILED | DEAD
DELIVERED, FAILED, DEAD = "DELIVERED", "FAILED", "DEAD"


@dataclass(frozen=True)
class AlertSubscription:
    """A subscription as the API shows it: never its secret."""

    name: str
    channel: str
    target: str
    recons: list[str] | None
    severities: list[str] | None
    kinds: list[str] | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None


async def subscribe(
    conn: AsyncConnection[Any],
    *,
    name: str,
    channel: Channel,
    target: str,
    secret: str | None,
    recons: list[str] | None,
    severities: list[str] | None,
    kinds: list[str] | None,
    created_by: str,
) -> AlertSubscription | None:
    """A new subscription; None if one of that name exists (ended or not)."""
    async with conn.cursor(row_factory=class_row(AlertSubscription)) as cur:
        await cur.execute(
            """
            INSERT INTO alert_subscriptions
                   (name, channel, target, secret, recons, severities, kinds, created_by)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (name) DO NOTHING
            RETURNING name, channel, target, recons, severities, kinds, created_by,
                      created_at, ended_at
            """,
            [name, channel, target, secret, recons, severities, kinds, created_by],
        )
        return await cur.fetchone()


async def end(conn: AsyncConnection[Any], name: str) -> AlertSubscription | None:
    """End a subscription (its deliveries stay); None if there is no active one of that name."""
    async with conn.cursor(row_factory=class_row(AlertSubscription)) as cur:
        await cur.execute(
            """
            UPDATE alert_subscriptions SET ended_at = now()
             WHERE name = %s AND ended_at IS NULL
            RETURNING name, channel, target, recons, severities, kinds, created_by,
                      created_at, ended_at
            """,
            [name],
        )
        return await cur.fetchone()


async def listing(conn: AsyncConnection[Any], *, ended: bool = False) -> list[AlertSubscription]:
    async with conn.cursor(row_factory=class_row(AlertSubscription)) as cur:
        await cur.execute(
            """
            SELECT name, channel, target, recons, severities, kinds, created_by, created_at,
                   ended_at
              FROM alert_subscriptions WHERE %s OR ended_at IS NULL ORDER BY name
            """,
            [ended],
        )
        return await cur.fetchall()


async def active(conn: AsyncConnection[Any]) -> list[Subscription]:
    """Every subscription not ended, with its secret (for the notifier)."""
    async with conn.cursor(row_factory=class_row(Subscription)) as cur:
        await cur.execute(
            f"SELECT {SUBSCRIPTION} FROM alert_subscriptions WHERE ended_at IS NULL"
            " ORDER BY subscription_id"
        )
        return await cur.fetchall()


async def settled(conn: AsyncConnection[Any], subscription_id: int, alert_id: str) -> bool:
    """Whether this subscriber was already told of this alert (or given up on)."""
    cur = await conn.execute(
        "SELECT 1 FROM alert_deliveries WHERE subscription_id = %s AND alert_id = %s"
        " AND outcome <> 'FAILED'",
        [subscription_id, alert_id],
    )
    return await cur.fetchone() is not None


async def attempted(
    conn: AsyncConnection[Any],
    subscription_id: int,
    alert_id: str,
    attempt: int,
    outcome: Outcome,
    detail: str,
) -> None:
    """Log one attempt; a second final outcome for the same alert is ignored."""
    await conn.execute(
        """
        INSERT INTO alert_deliveries (subscription_id, alert_id, attempt, outcome, detail)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (subscription_id, alert_id) WHERE outcome <> 'FAILED' DO NOTHING
        """,
        [subscription_id, alert_id, attempt, outcome, detail[:2000]],
    )


async def deliveries(
    conn: AsyncConnection[Any], subscription: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest attempts, of one subscription or of all."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT s.name AS subscription, d.alert_id, d.attempt, d.outcome, d.detail, d.at
              FROM alert_deliveries d JOIN alert_subscriptions s USING (subscription_id)
             WHERE %(name)s::text IS NULL OR s.name = %(name)s
             ORDER BY d.delivery_id DESC LIMIT %(limit)s
            """,
            {"name": subscription, "limit": limit},
        )
        return await cur.fetchall()
