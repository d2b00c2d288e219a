"""The diff worker: a Faust agent joining every source of a recon key in one table.

``greenai.records`` (all sources, keyed by recon key) and ``greenai.diff.timers`` are
co-partitioned; the table ``state`` is keyed by the same key, so each key's records meet in
one partition. A timer asks for a re-check of keys whose match window ran out by sending a
DiffTimer on the same key, so every state change happens inside stream processing and goes
to the changelog.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import faust
import redis.asyncio as aioredis

from streams.avro import DecodeError, codec, value_from_avro
from streams.diff.lifecycle import (
    BreakEvent,
    Incoming,
    KeyState,
    apply_record,
    expire,
    state_from_json,
    state_to_json,
)
from streams.recon import Recon
from streams.settings import Settings
from streams.values import render
from streams.worker import ReconRegistry, dead_letter, make_app, topics

log = logging.getLogger(__name__)

RECORD = codec("SourceRecord")
TIMER = codec("DiffTimer")
BREAK = codec("Break")


def break_datum(event: BreakEvent, published_at: datetime | None = None) -> dict[str, Any]:
    """The Break Avro datum of a diff event (attribution fields still empty)."""
    b = event.brk
    return {
        "break_id": b.break_id,
        "recon": event.recon,
        "key": event.key,
        "kind": b.kind.value,
        "missing_in": b.missing_in,
        "status": b.status.value,
        "fields": [
            {
                "field": d.field,
                "values": {s: render(v) for s, v in d.values.items()},
                "delta": render(d.delta) if d.delta is not None else None,
            }
            for d in b.fields
        ],
        "records": event.records,
        "cause": None,
        "confidence": None,
        "explanation": [],
        "disposition": None,
        "priority": None,
        "first_seen": b.first_seen,
        "updated_at": b.updated_at,
        "version": b.version,
    }


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    app = make_app(settings, "diff")
    inputs = app.topic(names.records, names.diff_timers, key_type=bytes, value_type=bytes)
    timers_topic = app.topic(names.diff_timers, key_type=bytes, value_type=bytes)
    breaks_topic = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    table = app.Table("state", default=None, key_type=bytes, value_type=bytes)
    recons = ReconRegistry(settings.database())
    redis = aioredis.from_url(settings.redis())
    deadlines: dict[bytes, tuple[datetime, str, dict[str, str | None]]] = {}
    rescan = {"needed": True}

    def load(key: bytes) -> KeyState:
        raw = table.get(key)
        return state_from_json(json.loads(raw)) if raw else KeyState()

    def store(key: bytes, recon: Recon, state: KeyState, rkey: dict[str, str | None]) -> None:
        table[key] = json.dumps(state_to_json(state), separators=(",", ":")).encode()
        deadline = state.deadline(recon)
        if deadline is None:
            deadlines.pop(key, None)
        else:
            deadlines[key] = (deadline, recon.name, rkey)

    async def publish(event: BreakEvent | None) -> None:
        if event is not None:
            await breaks_topic.send(
                key=event.brk.break_id.encode(), value=BREAK.encode(break_datum(event))
            )

    @app.agent(inputs)
    async def diff(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            where = f"{message.topic}/{message.partition}@{message.offset}"
            key = event.key or b""
            now = datetime.now(UTC)
            try:
                if message.topic == names.diff_timers:
                    datum = TIMER.decode(event.value)
                else:
                    datum = RECORD.decode(event.value)
            except DecodeError as exc:
                await dead_letter(
                    dead_topic,
                    recon="",
                    source="",
                    location=where,
                    raw=event.value,
                    reason=str(exc),
                    stage="diff",
                )
                continue
            recon = recons.get(datum["recon"])
            if recon is None:
                await dead_letter(
                    dead_topic,
                    recon=datum["recon"],
                    source=datum.get("source", ""),
                    location=where,
                    raw=event.value,
                    stage="diff",
                    reason=f"unknown recon {datum['recon']!r}",
                )
                continue
            if message.topic == names.diff_timers:
                state, out = expire(recon, load(key), datum["key"], now)
            elif datum["source"] not in recon.sources:
                await dead_letter(
                    dead_topic,
                    recon=recon.name,
                    source=datum["source"],
                    location=where,
                    raw=event.value,
                    stage="diff",
                    reason=f"recon {recon.name!r} has no source {datum['source']!r}",
                )
                continue
            else:
                incoming = Incoming(
                    datum["source"],
                    datum["record_id"],
                    {k: value_from_avro(v) for k, v in datum["fields"].items()},
                    datum["deleted"],
                )
                state, out = apply_record(recon, load(key), datum["key"], incoming, now)
            store(key, recon, state, datum["key"])
            await publish(out)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode stubs want exact types
    def _rebalanced(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        rescan["needed"] = True

    @app.timer(interval=0.5)
    async def match_windows() -> None:
        """Ask for a re-check of keys whose match window ran out; report pending keys."""
        if rescan["needed"]:
            rescan["needed"] = False
            rebuild_deadlines()
        now = datetime.now(UTC)
        due = [(k, v) for k, v in deadlines.items() if v[0] <= now]
        for key, (deadline, recon, rkey) in due:
            del deadlines[key]
            await timers_topic.send(
                key=key, value=TIMER.encode({"recon": recon, "key": rkey, "deadline": deadline})
            )
        await redis.set(
            f"{settings.topic_prefix}:diff:pending:{settings.worker_id}", len(deadlines), ex=5
        )

    @app.timer(interval=2.0)
    async def reload_recons() -> None:
        await asyncio.to_thread(recons.refresh)

    def rebuild_deadlines() -> None:
        deadlines.clear()
        for key, raw in table.items():
            if not raw:
                continue
            name, values = json.loads(key)
            recon = recons.get(name)
            state = state_from_json(json.loads(raw))
            deadline = state.deadline(recon) if recon else None
            if recon and deadline is not None:
                deadlines[key] = (deadline, name, dict(zip(recon.key, values, strict=True)))
        log.info("match windows open: %d", len(deadlines))

    return app
