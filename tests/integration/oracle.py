"""The breaks a run must end with, computed by the pure core from what Kafka holds.

The records topic is read back whole, with the broker's append times; each key's records
are folded by the pure lifecycle in partition order, every match window still open at the
end runs out, and the final version of each break is attributed by the pure engine (no
labels: rules only). A run of the real pipeline — with crashes, outages, restarts — must
store exactly these breaks: none lost, none doubled, none stuck, none different.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from streams.attribution.engine import Engine
from streams.diff.clock import EPOCH
from streams.diff.inputs import Poison, RecordIn, check, placed, unpack
from streams.diff.lifecycle import BreakEvent, KeyState, apply_record, on_timer
from streams.recon import Recon


def records_in_kafka(bootstrap: str, topic: str) -> list[tuple[int, int, bytes, bytes | None, int]]:
    """Every message of ``topic``: (partition, offset, key, value, append time in ms)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "oracle", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {}
        todo = []
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
                todo.append(TopicPartition(topic, p, low))
        consumer.assign(todo)
        out = []
        while ends:
            for m in consumer.consume(1000, timeout=2.0):
                if m.error():
                    continue
                p, offset = m.partition(), m.offset()
                out.append((p, offset, m.key() or b"", m.value(), m.timestamp()[1]))
                if offset >= ends.get(p, 0) - 1:
                    ends.pop(p, None)
        return sorted(out)
    finally:
        consumer.close()


def expected_breaks(
    recon: Recon, messages: list[tuple[int, int, bytes, bytes | None, int]]
) -> dict[str, Any]:
    """The final breaks by id, as the oracle computes them."""
    states: dict[bytes, KeyState] = defaultdict(KeyState)
    keys: dict[bytes, dict[str, str | None]] = {}
    final: dict[str, BreakEvent] = {}
    for _, _, kafka_key, value, millis in messages:
        try:
            unpacked = unpack(kafka_key, value, timers=False)
        except Poison:  # the diff dead-letters it
            continue
        at = EPOCH + timedelta(milliseconds=millis)
        for item in unpacked.items:
            if isinstance(item, Poison) or item.recon != recon.name:
                continue
            try:
                assert isinstance(item, RecordIn)
                key = check(recon, item)
                placed(key, unpacked, kafka_key)  # a batch: placed by our publisher
            except Poison:  # the diff dead-letters it
                continue
            rkey = {k: item.key[k] for k in recon.key}
            keys[key] = rkey
            states[key], events = apply_record(recon, states[key], rkey, item.incoming, at)
            _keep(final, events)
    for key, state in states.items():
        due = state.wakeup(recon)
        if due is not None and due[1]:  # a match window runs out; retention never does here
            _, events = on_timer(recon, state, keys[key], due[0])
            _keep(final, events)
    engine = Engine()
    return {
        break_id: engine.process(event.datum(), recon).datum for break_id, event in final.items()
    }


def _keep(final: dict[str, BreakEvent], events: list[Any]) -> None:
    for event in events:
        if isinstance(event, BreakEvent):
            final[event.brk.break_id] = event


ESSENCE = ("kind", "status", "missing_in", "fields", "version", "cause", "disposition")


def essence(brk: dict[str, Any]) -> tuple[Any, ...]:
    """What must be equal: the oracle's break and the stored one (no timestamps)."""
    return (
        brk["kind"],
        brk["status"],
        brk["missing_in"],
        [(f["field"], f["values"], f["delta"]) for f in brk["fields"]],
        brk["version"],
        brk["cause"],
        brk["disposition"],
    )


def compare(expected: dict[str, Any], stored: list[dict[str, Any]]) -> list[str]:
    """Every difference, one line each (empty: the run is right)."""
    got = {b["break_id"]: b for b in stored}
    problems = []
    for break_id in sorted(expected.keys() - got.keys()):
        problems.append(f"lost: {break_id} {essence(expected[break_id])}")
    for break_id in sorted(got.keys() - expected.keys()):
        problems.append(f"unexpected: {break_id} {essence(got[break_id])}")
    for break_id in sorted(expected.keys() & got.keys()):
        want, have = essence(expected[break_id]), essence(got[break_id])
        wrong = [
            f"{name} {w!r} != {h!r}"
            for name, w, h in zip(ESSENCE, want, have, strict=True)
            if w != h
        ]
        if wrong:
            problems.append(f"differs: {break_id}: expected vs stored: {'; '.join(wrong)}")
    if len(stored) != len(got):
        problems.append(f"doubled: {len(stored) - len(got)} break ids stored twice")
    return problems
