"""The break lifecycle: a pure state machine over the records one recon key has seen.

``apply_record`` folds a new record (or amendment, or tombstone) into a key's state and
``on_timer`` is called when the key's wake-up time has come: its match window ran out, or it
stayed settled past the recon's state retention. Both return the new state and the events to
publish: a changed break, or a MATCHED event. Nothing here touches Kafka.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from streams.diff.compare import ComparisonPlan, FieldDiff, Fields, comparison_plan
from streams.domain import workflow
from streams.domain.vocabulary import Kind, Status
from streams.domain.workflow import Command, Workflow
from streams.recon import Recon
from streams.values import render

# The state and what it is made of are frozen msgspec Structs: immutable like frozen
# dataclasses, and built and copied (``replace``) in C, once or more for every record.


class Booking(Struct, frozen=True):
    """One record of one source as the diff keeps it."""

    record_id: str | None
    fields: Fields


class Break(Struct, frozen=True):
    break_id: str
    kind: Kind
    missing_in: str | None
    status: Status
    fields: tuple[FieldDiff, ...]
    first_seen: datetime
    updated_at: datetime
    version: int
    workflow: Workflow | None = None  # what people did about it (None: nothing yet)

    def same_finding(
        self, kind: Kind, missing_in: str | None, diffs: tuple[FieldDiff, ...]
    ) -> bool:
        return (self.kind, self.missing_in, self.fields) == (kind, missing_in, diffs)


class KeyState(Struct, frozen=True):
    """Everything the diff knows about one recon key."""

    bookings: dict[str, tuple[Booking, ...]] = {}
    waiting_since: datetime | None = None
    current: Break | None = None
    generation: int = 0
    matched: bool = False
    settled_since: datetime | None = None
    seen_until: datetime | None = None  # the latest moment the key was evaluated at

    def present(self, recon: Recon) -> list[str]:
        return [s for s in comparison_plan(recon).sources if self.bookings.get(s)]

    def deadline(self, recon: Recon) -> datetime | None:
        """When the match window of an incomplete key runs out (None: nothing to wait for,
        or the key was evaluated after its window ran out already: whatever the window
        decides, that evaluation decided it, so a key never wakes twice for one window)."""
        if self.waiting_since is None:
            return None
        if (
            self.current
            and self.current.status is Status.OPEN
            and self.current.kind is Kind.MISSING
        ):
            return None
        deadline = self.waiting_since + recon.match_window
        if self.seen_until is not None and deadline <= self.seen_until:
            return None
        return deadline

    def wakeup(self, recon: Recon) -> tuple[datetime, bool] | None:
        """When ``on_timer`` should look at this key again, and whether that is the end of a
        match window (True) or of the state retention of a settled key (False)."""
        deadline = self.deadline(recon)
        if deadline is not None:
            return deadline, True
        if self.settled_since is not None:
            return self.settled_since + recon.state_retention, False
        return None


class Incoming(Struct, frozen=True):
    source: str
    record_id: str | None
    fields: Fields
    deleted: bool = False


@dataclass(frozen=True)
class BreakEvent:
    """A break as the diff publishes it: the break, its recon and key, and the records."""

    recon: str
    key: dict[str, str | None]
    brk: Break
    records: dict[str, dict[str, str | None]]

    def datum(self) -> dict[str, Any]:
        """The Break Avro datum the diff publishes (attribution fields still empty)."""
        b = self.brk
        return {
            "break_id": b.break_id,
            "recon": self.recon,
            "key": self.key,
            "kind": b.kind.value,
            "missing_in": b.missing_in,
            "status": workflow.status_of(b.status, b.workflow).value,
            "fields": [
                {
                    "field": d.field,
                    "values": {s: render(v) for s, v in d.values.items()},
                    "delta": render(d.delta),
                }
                for d in b.fields
            ],
            "records": self.records,
            "cause": None,
            "confidence": None,
            "explanation": [],
            "disposition": None,
            "priority": None,
            "first_seen": b.first_seen,
            "updated_at": b.updated_at,
            "version": b.version,
            **workflow.break_fields(b.workflow),
            "materiality": None,
            "due": None,
        }


@dataclass(frozen=True)
class Matched:
    """Every source holds the key and they agree (published for match-rate statistics)."""

    recon: str
    key: dict[str, str | None]
    sources: tuple[str, ...]
    at: datetime

    def datum(self) -> dict[str, Any]:
        """The Match Avro datum the diff publishes."""
        return {
            "recon": self.recon,
            "key": self.key,
            "sources": list(self.sources),
            "matched_at": self.at,
        }


Event = BreakEvent | Matched


_ID_TEXT = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # json.dumps's, built once


def break_id(recon: str, key: dict[str, str | None], generation: int) -> str:
    """Stable id: the same recon, key and episode always give the same id (replays too)."""
    text = _ID_TEXT.encode([recon, key, generation])
    return "b-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def apply_record(
    recon: Recon, state: KeyState, key: dict[str, str | None], rec: Incoming, now: datetime
) -> tuple[KeyState, list[Event]]:
    """Fold one record, appended at ``now``, into the key's state: new booking, amendment or
    tombstone. A wake-up the key had before ``now`` happens first, as if its timer had come
    in time, so the outcome never depends on whether the timer or the record is seen first.
    """
    events: list[Event] = []
    due = state.wakeup(recon)
    if due is not None and due[0] <= now:
        expired, events = on_timer(recon, state, key, due[0])
        state = expired or KeyState()
    bookings = dict(state.bookings)
    held = bookings.get(rec.source, ())
    if rec.deleted:
        kept = tuple(b for b in held if rec.record_id is not None and b.record_id != rec.record_id)
    elif rec.record_id is None:
        kept = (Booking(None, rec.fields),)
    else:  # an amendment keeps the booking's place: replaying a source changes nothing
        booking = Booking(rec.record_id, rec.fields)
        ids = [b.record_id for b in held]
        if rec.record_id in ids:
            at = ids.index(rec.record_id)
            kept = (*held[:at], booking, *held[at + 1 :])
        else:
            kept = (*held, booking)
    bookings[rec.source] = kept
    state, more = evaluate(recon, replace(state, bookings=bookings), key, now)
    return state, events + more


def on_timer(
    recon: Recon, state: KeyState, key: dict[str, str | None], deadline: datetime
) -> tuple[KeyState | None, list[Event]]:
    """A key's wake-up at ``deadline``: re-evaluate its match window, or forget a key settled
    for longer than the recon's ``state_retention`` (None: delete it). A key that ever had a
    break keeps its episode number, so a later break under the same key still gets a new
    ``break_id``. A timer for a deadline the key no longer has (a record came and moved it)
    changes nothing."""
    due = state.wakeup(recon)
    if due is None or deadline < due[0]:
        return state, []
    if state.settled_since is not None and deadline - state.settled_since >= recon.state_retention:
        return (KeyState(generation=state.generation) if state.generation else None), []
    return evaluate(recon, state, key, deadline)


def evaluate(
    recon: Recon, state: KeyState, key: dict[str, str | None], now: datetime
) -> tuple[KeyState, list[Event]]:
    plan = comparison_plan(recon)
    sources = plan.sources
    present = [s for s in sources if state.bookings.get(s)]
    complete = len(present) == len(sources)
    waiting_since = None if complete or not present else (state.waiting_since or now)
    seen_until = now if state.seen_until is None else max(now, state.seen_until)
    state = replace(state, waiting_since=waiting_since, seen_until=seen_until)

    finding = _finding(recon, plan, state, present, complete, now)
    if finding is not None:
        state, events = _open_or_update(recon, state, key, finding, now)
        return replace(state, matched=False, settled_since=None), events
    if waiting_since is not None:  # still inside the match window: nothing to say yet
        return replace(state, matched=False, settled_since=None), []
    state, events = _resolve(recon, state, key, now)
    if complete and not state.matched:
        events.append(Matched(recon.name, key, sources, now))
    return replace(state, matched=complete, settled_since=state.settled_since or now), events


Finding = tuple[Kind, str | None, tuple[FieldDiff, ...]]


def _finding(
    recon: Recon,
    plan: ComparisonPlan,
    state: KeyState,
    present: list[str],
    complete: bool,
    now: datetime,
) -> Finding | None:
    doubled = {s: b for s, b in state.bookings.items() if len(b) > 1}
    if doubled:
        diffs = tuple(
            FieldDiff(
                recon.sources[s].record_id or "record_id",
                {s: ", ".join(str(b.record_id) for b in bs)},
                len(bs) - 1,
            )
            for s, bs in doubled.items()
        )
        return Kind.DUPLICATE, None, diffs
    if complete:
        latest = {s: state.bookings[s][-1].fields for s in present}
        diffs = tuple(plan.diff(latest))
        return (Kind.MISMATCH, None, diffs) if diffs else None
    if not present:
        return None
    assert state.waiting_since is not None
    if now - state.waiting_since >= recon.match_window:
        missing = next(s for s in recon.source_names if s not in present)
        return Kind.MISSING, missing, ()
    if state.current and state.current.status is Status.OPEN:
        return state.current.kind, state.current.missing_in, state.current.fields
    return None


def _open_or_update(
    recon: Recon, state: KeyState, key: dict[str, str | None], finding: Finding, now: datetime
) -> tuple[KeyState, list[Event]]:
    kind, missing_in, diffs = finding
    current = state.current
    if current and current.status is Status.OPEN:
        if current.same_finding(kind, missing_in, diffs):
            return state, []
        brk = replace(
            current,
            kind=kind,
            missing_in=missing_in,
            fields=diffs,
            updated_at=now,
            version=current.version + 1,
            workflow=workflow.on_new_data(current.workflow),
        )
        state = replace(state, current=brk)
    else:
        generation = state.generation + 1
        brk = Break(
            break_id(recon.name, key, generation),
            kind,
            missing_in,
            Status.OPEN,
            diffs,
            first_seen=now,
            updated_at=now,
            version=1,
        )
        state = replace(state, current=brk, generation=generation)
    return state, [current_event(recon, state, key)]


def _resolve(
    recon: Recon, state: KeyState, key: dict[str, str | None], now: datetime
) -> tuple[KeyState, list[Event]]:
    current = state.current
    if not current or current.status is Status.RESOLVED:
        return state, []
    brk = replace(
        current,
        status=Status.RESOLVED,
        updated_at=now,
        version=current.version + 1,
        workflow=workflow.on_new_data(current.workflow),
    )
    state = replace(state, current=brk)
    return state, [current_event(recon, state, key)]


def apply_command(
    recon: Recon,
    state: KeyState,
    key: dict[str, str | None],
    break_id: str,
    cmd: Command,
    now: datetime,
) -> tuple[KeyState, list[Event]]:
    """Apply a person's (or the scheduler's) action to the key's current break, appended at
    ``now``: its next revision. :class:`streams.domain.workflow.Refused` for an action the
    break does not take now, or a break that is not the key's current one."""
    current = state.current
    if current is None or current.break_id != break_id:
        raise workflow.Refused(f"break {break_id} is not the current break of its key")
    status = workflow.status_of(current.status, current.workflow)
    done = workflow.apply(current.workflow, status, current.version, cmd)
    brk = replace(current, workflow=done, updated_at=max(now, current.updated_at))
    state = replace(state, current=brk)
    return state, [current_event(recon, state, key)]


def current_event(recon: Recon, state: KeyState, key: dict[str, str | None]) -> BreakEvent:
    """The key's current break as an event (also re-published after a crash)."""
    assert state.current is not None
    records = {
        s: {f: render(v) for f, v in bs[-1].fields.items()}
        for s, bs in state.bookings.items()
        if bs
    }
    return BreakEvent(recon.name, key, state.current, records)
