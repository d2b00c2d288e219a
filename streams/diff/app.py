"""The diff worker: a Faust agent joining every source of a recon key in one table.

``greenai.records`` (all sources, keyed by recon key) and ``greenai.diff.timers`` are
co-partitioned; the table ``state`` is keyed by the same key, so each key's records meet in
one partition. A timer asks for a re-check of keys whose wake-up time came (match window or
state retention) by sending a DiffTimer on the same key, so every state change happens inside
stream processing and goes to the changelog.

Crash safety: Faust commits input offsets only after flushing what it produced, but the table's
changelog may be ahead of the committed offsets after a crash. Each key therefore remembers the
last input offset it applied; a redelivered message is not applied twice, and the key's current
break is published again instead (the BFF keeps the highest version, so that is harmless) in
case the crash lost the first publication.
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
    Event,
    Incoming,
    KeyState,
    Matched,
    apply_record,
    current_event,
    on_timer,
    state_from_json,
    state_to_json,
)
from streams.recon import Recon
from streams.settings import Settings
from streams.worker import ReconRegistry, crash_only, dead_letter, make_app, topics

log = logging.getLogger(__name__)

RECORD = codec("SourceRecord")
TIMER = codec("DiffTimer")
BREAK = codec("Break")
MATCH = codec("Match")


class Stored:
    """A table value: the key's state and the last offset applied from each input topic."""

    def __init__(self, state: KeyState, offsets: dict[str, int]) -> None:
        self.state = state
        self.offsets = offsets

    @classmethod
    def load(cls, raw: bytes | None) -> Stored:
        if not raw:
            return cls(KeyState(), {})
        data = json.loads(raw)
        return cls(state_from_json(data["s"]), data["o"])

    def dump(self) -> bytes:
        data = {"s": state_to_json(self.state), "o": self.offsets}
        return json.dumps(data, separators=(",", ":")).encode()


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    app = make_app(settings, "diff")
    inputs = app.topic(names.records, names.diff_timers, key_type=bytes, value_type=bytes)
    timers_topic = app.topic(names.diff_timers, key_type=bytes, value_type=bytes)
    breaks_topic = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    matches_topic = app.topic(names.matches, key_type=bytes, value_type=bytes)
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    table = app.Table("state", default=None, key_type=bytes, value_type=bytes)
    recons = ReconRegistry(settings.database())
    redis = aioredis.from_url(settings.redis())
    # key -> (when, recon, recon key, is a match window): the next look at each key
    wakeups: dict[bytes, tuple[datetime, str, dict[str, str | None], bool]] = {}
    rescan = {"needed": True}

    def remember(key: bytes, recon: Recon, state: KeyState | None, rkey: dict) -> None:
        due = state.wakeup(recon) if state else None
        if due is None:
            wakeups.pop(key, None)
        else:
            wakeups[key] = (due[0], recon.name, rkey, due[1])

    async def publish(key: bytes, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Matched):
                await matches_topic.send(
                    key=key,
                    value=MATCH.encode(
                        {
                            "recon": event.recon,
                            "key": event.key,
                            "sources": list(event.sources),
                            "matched_at": event.at,
                        }
                    ),
                )
            else:
                await breaks_topic.send(
                    key=event.brk.break_id.encode(), value=BREAK.encode(event.datum())
                )

    async def reject(
        where: str, raw: bytes, reason: str, recon: str = "", source: str = ""
    ) -> None:
        await dead_letter(
            dead_topic,
            recon=recon,
            source=source,
            location=where,
            raw=raw,
            reason=reason,
            stage="diff",
        )

    @app.agent(inputs)
    @crash_only
    async def diff(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            where = f"{message.topic}/{message.partition}@{message.offset}"
            key, is_timer = event.key or b"", message.topic == names.diff_timers
            try:
                datum = (TIMER if is_timer else RECORD).decode(event.value)
            except DecodeError as exc:
                await reject(where, event.value, str(exc))
                continue
            recon = recons.get(datum["recon"])
            source = "" if is_timer else datum["source"]
            if recon is None:
                await reject(
                    where, event.value, f"unknown recon {datum['recon']!r}", datum["recon"], source
                )
                continue
            if not is_timer and source not in recon.sources:
                await reject(
                    where,
                    event.value,
                    f"recon {recon.name!r} has no source {source!r}",
                    recon.name,
                    source,
                )
                continue
            stored = Stored.load(table.get(key))
            topic_tag = "t" if is_timer else "r"
            if message.offset <= stored.offsets.get(topic_tag, -1):
                if stored.state.current is not None:  # redelivered after a crash
                    await publish(key, [current_event(recon, stored.state, datum["key"])])
                continue
            now = datetime.now(UTC)
            state: KeyState | None
            if is_timer:
                state, out = on_timer(recon, stored.state, datum["key"], now)
            else:
                incoming = Incoming(
                    source,
                    datum["record_id"],
                    {k: value_from_avro(v) for k, v in datum["fields"].items()},
                    datum["deleted"],
                )
                state, out = apply_record(recon, stored.state, datum["key"], incoming, now)
            await publish(key, out)
            if state is None:
                table.pop(key, None)
            else:
                stored.offsets[topic_tag] = message.offset
                table[key] = Stored(state, stored.offsets).dump()
            remember(key, recon, state, datum["key"])

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode stubs want exact types
    def _rebalanced(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        rescan["needed"] = True

    @app.timer(interval=0.5)
    async def wake_keys() -> None:
        """Ask for a look at keys whose time came; report open match windows for `wait`."""
        if rescan["needed"]:
            rescan["needed"] = False
            rebuild_wakeups()
        now = datetime.now(UTC)
        due = [(k, v) for k, v in wakeups.items() if v[0] <= now]
        sent = []
        for key, (when, recon, rkey, _) in due:
            del wakeups[key]
            value = TIMER.encode({"recon": recon, "key": rkey, "deadline": when})
            sent.append(await timers_topic.send(key=key, value=value))
        await asyncio.gather(*sent)  # in Kafka before `wait` can see zero open windows
        open_windows = sum(1 for *_, window in wakeups.values() if window)
        await redis.set(
            f"{settings.topic_prefix}:diff:pending:{settings.worker_id}", open_windows, ex=5
        )

    @app.timer(interval=2.0)
    async def reload_recons() -> None:
        await asyncio.to_thread(recons.refresh)

    def rebuild_wakeups() -> None:
        wakeups.clear()
        for key, raw in table.items():
            name, values = json.loads(key)
            recon = recons.get(name)
            if recon is not None:
                remember(
                    key, recon, Stored.load(raw).state, dict(zip(recon.key, values, strict=True))
                )
        log.info("keys with a wake-up: %d", len(wakeups))

    return app
