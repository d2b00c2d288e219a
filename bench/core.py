"""The diff worker's pure per-record work, step by step, beside a floor measured in the run.

What ``handle`` and ``plan`` (``streams/diff/app.py``) do for one record, without Kafka, on
generated trade pairs (``TradeGenerator``, 10% breaks of every cause, and the custodian's
correction of every break it can fix, which resolves it), carried in SourceRecordBatch
messages of ``BATCH`` records as the connectors send them, with a dict as the Faust table:

* ``decode``: its share of the batch's one decode, checked against the recon;
* ``load``: the key's table value read back into its state;
* ``apply``: ``apply_record`` (the comparison and the break lifecycle) and the new wake-up;
* ``dump``: the key's new table value;
* ``encode``: the Avro Break or Match of every event the record caused.

Each step is timed alone on the inputs a first pass recorded; ``total`` is the whole fold
end to end in one loop. The floor is the least any worker does per record: fastavro's bare
``schemaless_reader`` of the same batch bodies and a MessagePack round trip (msgspec) of
what it decoded. Each figure is the best of ``repeat`` passes, by wall clock and CPU time
(the machine may be shared). ``python -m bench.core [--pairs N]`` prints it all as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
import msgspec

from bench.timing import best_pass
from streams.avro import codec, source_record
from streams.batches import SLOTS
from streams.diff.clock import appended_at
from streams.diff.inputs import (
    RECORD_BATCHES,
    RecordIn,
    Unpacked,
    check,
    placed,
    unpack,
)
from streams.diff.lifecycle import BreakEvent, Event, Matched, apply_record
from streams.diff.stored import RECORDS, Stored
from streams.ingest.synthetic import TradeGenerator
from streams.ingest.validate import canonical_row
from streams.recon import Recon, load_recon

ROOT = Path(__file__).resolve().parent.parent
DEMO_RECON = ROOT / "examples" / "demo" / "trades.yaml"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

BATCH = 500
BREAK = codec("Break")
MATCH = codec("Match")


@dataclass(frozen=True)
class Message:
    value: bytes  # a SourceRecordBatch
    timestamp: float  # seconds, as Faust hands a Kafka timestamp over
    offset: int


@dataclass(frozen=True)
class Decoded:
    """One record of a batch: its item, recon key bytes and key values, and position."""

    item: RecordIn
    key: bytes
    rkey: dict[str, str | None]
    position: int


@dataclass(frozen=True)
class Fold:
    """What the first pass saw of one record: every step's input, to time each step alone."""

    message: Message
    decoded: Decoded
    raw_before: bytes | None
    before: Stored
    after: Stored
    events: list[Event]


def messages(recon: Recon, pairs: int, seed: int = 3, break_rate: float = 0.1) -> list[Message]:
    """Both sources' records of ``pairs`` trades, then the corrections, ``BATCH`` records to
    a message, one millisecond apart."""
    generator = TradeGenerator(seed=seed, break_rate=break_rate)
    rows: list[tuple[str, dict[str, str]]] = []
    corrections: list[tuple[str, dict[str, str]]] = []
    for _ in range(pairs):
        pair = generator.pair()
        rows += [("ledger", r) for r in pair.ledger] + [("custody", r) for r in pair.custody]
        fixed = generator.correction(pair)
        if fixed is not None:
            corrections.append(("custody", fixed))
    everything = rows + corrections
    out = []
    for offset, start in enumerate(range(0, len(everything), BATCH)):
        at = T0.timestamp() + offset / 1000
        published = datetime.fromtimestamp(at, UTC)
        bodies = [
            RECORD_BATCHES.body(
                source_record(
                    recon.name, source, canonical_row(recon, source, raw), "bench", published
                )
            )
            for source, raw in everything[start : start + BATCH]
        ]
        out.append(Message(RECORD_BATCHES.encode(bodies), at, offset))
    return out


def decode(recon: Recon, message: Message) -> list[Decoded]:
    """A batch's records, decoded, checked and placed as ``handle`` and ``plan`` do it (the
    bench's topic has one partition)."""
    unpacked: Unpacked = unpack(None, message.value, timers=False)
    out = []
    for index, item in enumerate(unpacked.items):
        if not isinstance(item, RecordIn):
            raise AssertionError(item)
        key = check(recon, item)
        placed(key, unpacked, None)
        rkey = {k: item.key[k] for k in recon.key}
        out.append(Decoded(item, key, rkey, message.offset * SLOTS + index))
    return out


def apply(
    recon: Recon, stored: Stored, record: Decoded, message: Message
) -> tuple[Stored, list[Event]]:
    """The record folded into the key's stored state, as ``plan`` does it, and the key's
    new wake-up, as ``handle`` asks for it."""
    if stored.seen(RECORDS, record.position):  # never here: the bench delivers each once
        return stored, []
    state, events = apply_record(
        recon, stored.state, record.rkey, record.item.incoming, appended_at(message.timestamp)
    )
    state.wakeup(recon)
    return Stored(state, {**stored.offsets, RECORDS: record.position}), events


def encode(events: list[Event]) -> None:
    for event in events:
        if isinstance(event, Matched):
            MATCH.encode(event.datum())
        else:
            BREAK.encode(event.datum())


def first_pass(recon: Recon, msgs: list[Message]) -> list[Fold]:
    table: dict[bytes, bytes] = {}
    folds = []
    for message in msgs:
        for record in decode(recon, message):
            raw = table.get(record.key)
            before = Stored.load(raw)
            after, events = apply(recon, before, record, message)
            table[record.key] = after.dump()
            folds.append(Fold(message, record, raw, before, after, events))
    return folds


def end_to_end(recon: Recon, msgs: list[Message]) -> int:
    table: dict[bytes, bytes] = {}
    n = 0
    for message in msgs:
        for record in decode(recon, message):
            after, events = apply(recon, Stored.load(table.get(record.key)), record, message)
            table[record.key] = after.dump()
            encode(events)
            n += 1
    return n


def _best(fn: Callable[[], int], repeat: int) -> tuple[float, float]:
    """Microseconds per item of the fastest pass: (wall clock, CPU time)."""
    wall, cpu = best_pass(fn, repeat)
    return wall * 1e6, cpu * 1e6


def floor(msgs: list[Message]) -> Callable[[], int]:
    """fastavro's bare decode of every batch body and a msgpack round trip of each record."""
    schema = RECORD_BATCHES.batch.schema
    bodies = [m.value[10:] for m in msgs]
    encoder, decoder = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder()

    def run() -> int:
        n = 0
        for body in bodies:
            datum: Any = fastavro.schemaless_reader(io.BytesIO(body), schema, None, False)
            for record in datum["records"]:
                decoder.decode(encoder.encode(record))
                n += 1
        return n

    return run


def run(pairs: int = 5000, repeat: int = 7) -> dict[str, Any]:
    recon = load_recon(DEMO_RECON)
    msgs = messages(recon, pairs)
    folds = first_pass(recon, msgs)
    n = len(folds)

    def over(step: Callable[[Fold], object]) -> Callable[[], int]:
        def passes() -> int:
            for fold in folds:
                step(fold)
            return n

        return passes

    def decode_all() -> int:
        return sum(len(decode(recon, m)) for m in msgs)

    steps: dict[str, Callable[[], int]] = {
        "decode": decode_all,
        "load": over(lambda f: Stored.load(f.raw_before)),
        "apply": over(lambda f: apply(recon, f.before, f.decoded, f.message)),
        "dump": over(lambda f: f.after.dump()),
        "encode": over(lambda f: encode(f.events)),
    }
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, fn in steps.items():
        wall[name], cpu[name] = _best(fn, repeat)
    wall["sum_of_steps"], cpu["sum_of_steps"] = sum(wall.values()), sum(cpu.values())
    wall["total"], cpu["total"] = _best(lambda: end_to_end(recon, msgs), repeat)
    floor_wall, floor_cpu = _best(floor(msgs), repeat)
    events = [e for f in folds for e in f.events]
    return {
        "records": n,
        "breaks_published": sum(isinstance(e, BreakEvent) for e in events),
        "matches_published": sum(isinstance(e, Matched) for e in events),
        "table_value_bytes_mean": round(sum(len(f.after.dump()) for f in folds) / n, 1),
        "us_per_record": {k: round(v, 2) for k, v in wall.items()},
        "us_per_record_cpu": {k: round(v, 2) for k, v in cpu.items()},
        "floor_us_per_record": round(floor_wall, 2),
        "floor_us_per_record_cpu": round(floor_cpu, 2),
        "ratio_floor_to_total_cpu": round(floor_cpu / cpu["total"], 3),
        "core_us_per_record": round(cpu["total"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core")
    parser.add_argument("--pairs", type=int, default=5000, help="generated trade pairs")
    parser.add_argument("--repeat", type=int, default=7, help="passes; the best one counts")
    args = parser.parse_args()
    print(json.dumps(run(args.pairs, args.repeat), indent=2))


if __name__ == "__main__":
    main()
