"""The commands topic (``<prefix>.commands``): actions on breaks, as ``BreakCommand`` Avro.

A command travels under its break's recon key, partitioned like the records, so it reaches
the diff worker that owns the break (:mod:`streams.diff`), which applies it with
:func:`streams.domain.workflow.apply` and publishes the break's next revision. The BFF
(people's actions, authorised and audited there) and the scheduler produce them.

>>> from datetime import UTC, datetime
>>> from streams.domain.workflow import Action, Command
>>> cmd = Command("c-1", Action.ASSIGN, "mark", datetime(2026, 12, 7, tzinfo=UTC), to="team:fx")
>>> target = Target("trades", {"trade_id": "T1"}, "b-1")
>>> value = encode(target, cmd)
>>> decode(value) == (target, cmd)
True
>>> message_key(target)
b'["trades",["T1"]]'
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from streams.avro import codec
from streams.domain.workflow import Action, Command, ProposalAction
from streams.keys import recon_key_bytes

COMMANDS = codec("BreakCommand")


@dataclass(frozen=True)
class Target:
    """The break a command is for: its recon, recon key and id."""

    recon: str
    key: dict[str, str | None]
    break_id: str


def new_id() -> str:
    return uuid.uuid4().hex


def message_key(target: Target) -> bytes:
    """The Kafka key of a command: its break's recon key (so its partition is the key's)."""
    return recon_key_bytes(target.recon, target.key)


def encode(target: Target, cmd: Command) -> bytes:
    return COMMANDS.encode(
        {
            "command_id": cmd.command_id,
            "recon": target.recon,
            "key": target.key,
            "break_id": target.break_id,
            "version": cmd.version,
            "action": cmd.action.value,
            "by": cmd.by,
            "at": cmd.at,
            "to": cmd.to,
            "reason": cmd.reason,
            "note": cmd.note,
            "text": cmd.text,
            "add": list(cmd.add),
            "remove": list(cmd.remove),
            "proposal": cmd.proposal.value if cmd.proposal else None,
            "amount": format(cmd.amount, "f") if cmd.amount is not None else None,
            "cause": cmd.cause,
            "disposition": cmd.disposition,
        }
    )


def decode(value: bytes) -> tuple[Target, Command]:
    """The target and command of a message (DecodeError, ValueError: not one)."""
    return from_datum(COMMANDS.decode(value))


def from_datum(d: dict[str, Any]) -> tuple[Target, Command]:
    cmd = Command(
        d["command_id"],
        Action(d["action"]),
        d["by"],
        d["at"],
        version=d["version"],
        to=d["to"],
        reason=d["reason"],
        note=d["note"],
        text=d["text"],
        add=tuple(d["add"]),
        remove=tuple(d["remove"]),
        proposal=ProposalAction(d["proposal"]) if d["proposal"] else None,
        amount=Decimal(d["amount"]) if d["amount"] is not None else None,
        cause=d["cause"],
        disposition=d["disposition"],
    )
    return Target(d["recon"], d["key"], d["break_id"]), cmd
