"""People's actions on breaks — the exception workflow, labels and reversals — on their way
to the break's owner.

Each action is authorised by the caller's role, checked against the stored break with the
rules the owner itself applies (:func:`streams.domain.workflow.apply`, so a refusal is said at
once, with its reason), recorded in the audit trail, and sent as a command to the commands
topic, where the diff worker that owns the break applies it and publishes the break's next
revision: sink, PostgreSQL, Redis, every browser. The audit entries and the commands go
together: the entries are committed only once Kafka has acknowledged the commands. A label
or a reversal also goes to the feedback topic, for the model to learn from.

What only the BFF can tell is checked here too: whether a user to assign to exists, whether
a close is above the recon's approval threshold (it must then be a proposal), and that only a
CLOSED break is reopened (the owner cannot tell an auto-close from an open break).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from bff.audit.trail import Actor, Recorder
from bff.auth.permissions import Permission
from bff.auth.principal import Principal
from bff.metrics import ACTIONS
from bff.recons import ReconCache
from bff.store import users
from streams import commands
from streams.commands import Target
from streams.domain import workflow
from streams.domain.vocabulary import Status
from streams.domain.workflow import (
    TEAM_PREFIX,
    Action,
    Command,
    Incomplete,
    ProposalAction,
    Refused,
)
from streams.feedback import event_key, feedback_codec, label_event, reverse_event
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.store.breaks import applied_commands, get_breaks
from streams.topics import Topics

# What each action needs (ESCALATE is the scheduler's alone).
PERMISSION = {
    Action.TAKE: Permission.ASSIGN,
    Action.RELEASE: Permission.ASSIGN,
    Action.ASSIGN: Permission.ASSIGN,
    Action.REVIEW: Permission.ASSIGN,
    Action.CLOSE: Permission.PROPOSE,
    Action.PROPOSE: Permission.PROPOSE,
    Action.REOPEN: Permission.PROPOSE,
    Action.APPROVE: Permission.APPROVE,
    Action.REJECT: Permission.APPROVE,
    Action.COMMENT: Permission.COMMENT,
    Action.TAG: Permission.LABEL,
    Action.LABEL: Permission.LABEL,
    Action.REVERSE: Permission.LABEL,
}


class Refusal(Exception):
    """An action refused: the HTTP status and a one-line reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Asked:
    """An action as a person asks for it (the API's body)."""

    action: Action
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


@dataclass(frozen=True)
class Planned:
    """An action checked against its break: the command, and what the model learns."""

    row: dict[str, Any]
    target: Target
    command: Command
    feedback: dict[str, Any] | None = None


@dataclass(frozen=True)
class Accepted:
    break_id: str
    command_id: str
    action: str


def plan(
    row: dict[str, Any],
    recon: Recon | None,
    who: Principal,
    asked: Asked,
    *,
    origin: str = "api",
    now: datetime | None = None,
) -> Planned:
    """The command of ``asked`` on the stored break ``row``, or :class:`Refusal`."""
    needed = PERMISSION.get(asked.action)
    if needed is None:
        raise Refusal(422, f"{asked.action.value} is not an action a person takes")
    if not who.may(needed):
        raise Refusal(403, f"this needs the {needed.value} permission")
    if not who.sees(row["recon"]):
        raise Refusal(404, f"no break {row['break_id']}")
    if recon is None:
        raise Refusal(409, f"recon {row['recon']!r} is not registered any more")
    cmd = Command(
        commands.new_id(),
        asked.action,
        who.name,
        now or datetime.now(UTC),
        version=int(row["version"]),
        to=asked.to,
        reason=asked.reason,
        note=asked.note,
        text=asked.text,
        add=asked.add,
        remove=asked.remove,
        proposal=asked.proposal,
        amount=asked.amount,
        cause=asked.cause,
        disposition=asked.disposition,
    )
    status = Status(row["status"])
    if asked.action is Action.REOPEN and status is not Status.CLOSED:
        raise Refusal(409, f"only a CLOSED break is reopened (this one is {status.value})")
    threshold = recon.rules.approval_threshold
    money = Decimal(row["materiality"]) if row.get("materiality") is not None else None
    if asked.action is Action.CLOSE and threshold is not None and money and money > threshold:
        raise Refusal(
            409,
            f"needs approval: materiality {money} is above the recon's approval threshold "
            f"{threshold}; propose the close instead",
        )
    try:
        workflow.apply(workflow.from_break_fields(row), status, int(row["version"]), cmd)
    except Incomplete as exc:
        raise Refusal(422, str(exc)) from None
    except Refused as exc:
        raise Refusal(409, str(exc)) from None
    target = Target(row["recon"], row["key"], row["break_id"])
    return Planned(row, target, cmd, _feedback(row, recon, cmd, origin))


async def plan_all(
    pool: AsyncConnectionPool,
    recons: ReconCache,
    who: Principal,
    asked: list[tuple[str, Asked]],
) -> list[Planned]:
    """Every action of a request checked before any is sent (all or nothing); the first
    :class:`Refusal` says which break (of several) refused."""
    rows = await get_breaks(pool, list(dict.fromkeys(b for b, _ in asked)))
    people = {a.to for _, a in asked if a.action is Action.ASSIGN and a.to}
    for to in people - {p for p in people if p.startswith(TEAM_PREFIX)}:
        async with pool.connection() as conn:
            user = await users.by_name(conn, to)
        if user is None or user.disabled:
            raise Refusal(422, f"no active user {to!r} (or assign to team:<name>)")
    planned = []
    for break_id, a in asked:
        row = rows.get(break_id)
        try:
            if row is None:
                raise Refusal(404, f"no break {break_id}")
            planned.append(plan(row, await recons.get(row["recon"]), who, a))
        except Refusal as exc:
            if len(asked) > 1 and row is not None:
                raise Refusal(exc.status, f"break {break_id}: {exc.detail}") from None
            raise
    return planned


def _feedback(
    row: dict[str, Any], recon: Recon, cmd: Command, origin: str
) -> dict[str, Any] | None:
    if cmd.action is Action.LABEL:
        assert cmd.cause is not None  # apply checked it
        return label_event(
            row,
            recon.source_names,
            recon.fx_rates,
            cmd.cause,
            analyst=cmd.by,
            origin=origin,
            disposition=cmd.disposition,
            reason=cmd.reason,
        )
    if cmd.action is Action.REVERSE:
        assert cmd.disposition is not None
        return reverse_event(row, cmd.disposition, analyst=cmd.by, origin=origin, reason=cmd.reason)
    return None


def before(row: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a break before an action."""
    keep = ("status", "owner", "cause", "disposition", "close_reason", "tags", "version")
    return {k: row.get(k) for k in keep} | {"revision": row.get("revision", 0)}


def after(cmd: Command) -> dict[str, Any]:
    """What the audit trail keeps of the action itself."""
    said = {
        "command_id": cmd.command_id,
        "to": cmd.to,
        "reason": cmd.reason,
        "note": cmd.note,
        "text": cmd.text,
        "add": list(cmd.add) or None,
        "remove": list(cmd.remove) or None,
        "proposal": cmd.proposal.value if cmd.proposal else None,
        "amount": format(cmd.amount, "f") if cmd.amount is not None else None,
        "cause": cmd.cause,
        "disposition": cmd.disposition,
    }
    return {k: v for k, v in said.items() if v is not None}


@dataclass
class Sender:
    """Sends planned actions to Kafka (one at a time: a flush reports this caller's sends)."""

    producer: SafeProducer
    topics: Topics
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def submit(
        self,
        pool: AsyncConnectionPool,
        audit: Recorder,
        actor: Actor,
        planned: list[Planned],
    ) -> list[Accepted]:
        """One audit entry per break and the commands, together: the entries commit only
        once Kafka has every command (a failure leaves neither)."""
        async with pool.connection() as conn, conn.transaction():
            for p in planned:
                await audit(
                    conn,
                    actor,
                    f"break.{p.command.action.value.lower()}",
                    target=("break", p.target.break_id),
                    recon=p.target.recon,
                    before=before(p.row),
                    after=after(p.command),
                )
            async with self._lock:
                await asyncio.to_thread(self._publish, planned)
        for p in planned:
            ACTIONS.labels(p.command.action.value).inc()
        return [
            Accepted(p.target.break_id, p.command.command_id, p.command.action.value)
            for p in planned
        ]

    async def feedback(self, event: dict[str, Any]) -> None:
        """Send one feedback event (a model rollback) and wait for Kafka to have it."""

        def publish() -> None:
            self.producer.send(
                self.topics.feedback, event_key(event), feedback_codec().encode(event)
            )
            self.producer.flush(timeout=30)

        async with self._lock:
            await asyncio.to_thread(publish)

    def _publish(self, planned: list[Planned]) -> None:
        codec = feedback_codec()
        for p in planned:
            self.producer.send(
                self.topics.commands,
                commands.message_key(p.target),
                commands.encode(p.target, p.command),
            )
            if p.feedback is not None:
                self.producer.send(
                    self.topics.feedback, event_key(p.feedback), codec.encode(p.feedback)
                )
        self.producer.flush(timeout=30)


async def wait_applied(
    pool: AsyncConnectionPool, command_ids: list[str], timeout: float
) -> set[str]:
    """The commands whose revision is stored, waiting up to ``timeout`` seconds for all."""
    deadline = time.monotonic() + timeout
    while True:
        applied = await applied_commands(pool, command_ids)
        if len(applied) == len(set(command_ids)) or time.monotonic() >= deadline:
            return applied
        await asyncio.sleep(0.1)
