"""The diff's pure core publishes, byte for byte, what it published before it was made fast.

A seeded feed goes through what the worker does per message — decode and check, load the
key's table value, ``apply_record`` / ``on_timer``, dump the new value — and every Break and
Match it publishes is Avro-encoded: the demo recon, 1500 trade pairs with every cause of
break, the custodian's corrections (some wrong at first), the timers of the keys left
waiting, the missing sides arriving late, withdrawals of matched bookings, and the state
retention running out. The digests of those bytes, and of every key's final state in the
state's JSON form, were taken from the code before the fast core (commit 2ccb72b): a change
of either is a change of behaviour. Breaks are encoded with the Break schema of that time
(history v1): the workflow's fields, added since, are empty for breaks nobody acted on.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import fastavro

from streams.avro import MAGIC, SCHEMA_DIR, codec, schema_fingerprint, source_record
from streams.diff.clock import appended_at
from streams.diff.inputs import RecordIn, check, unpack
from streams.diff.lifecycle import Event, KeyState, Matched, apply_record, on_timer
from streams.diff.stored import RECORDS, TIMERS, Stored
from streams.ingest.synthetic import TradeGenerator
from streams.ingest.validate import canonical_row
from streams.recon import Recon, load_recon

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "trades.yaml"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVENTS_DIGEST = "bdc1702c8c4390bfb5a72ded3522a45f8d75e812228e791944608f9f099ca52c"
STATES_DIGEST = "a5b574505755fdb9f3b748a1cd60dc05a6001b9bd910b98ba389aa8de6b7bdb9"


Row = tuple[str, dict[str, str]]  # (source, the row as the source sends it)


def feed(recon: Recon) -> tuple[list[Row], list[Row]]:
    """The rows before the keys' match windows run out, and the rows after: the sides that
    were missing, arriving late, and withdrawals (tombstones) of some matched bookings."""
    generator = TradeGenerator(seed=21, break_rate=0.3, variety=True)
    rename = recon.sources["custody"].rename
    as_custody = {canonical: column for column, canonical in rename.items()}
    first: list[Row] = []
    amendments: list[Row] = []
    late: list[Row] = []
    for n in range(1500):
        pair = generator.pair()
        first += [("ledger", r) for r in pair.ledger] + [("custody", r) for r in pair.custody]
        fixed = generator.correction(pair)
        if fixed is not None:
            if n % 3 == 0:  # a wrong correction first: the break is updated, then resolved
                wrong = fixed | {"Amt": str(Decimal(fixed["Amt"]) + 1)}
                amendments.append(("custody", wrong))
            amendments.append(("custody", fixed))
        if pair.ledger and not pair.custody:
            late.append(("custody", {as_custody.get(k, k): v for k, v in pair.ledger[0].items()}))
        elif pair.custody and not pair.ledger and n % 2:
            canonical = {rename.get(k, k): v for k, v in pair.custody[0].items()}
            late.append(("ledger", canonical | {"booking_id": f"LATE-{n}"}))
        elif pair.cause is None and n % 10 == 0:
            late.append(("ledger", pair.ledger[0] | {"_deleted": "true"}))
    return first + amendments, late


def message(recon: Recon, source: str, raw: dict[str, str], at: datetime) -> tuple[bytes, bytes]:
    row = canonical_row(recon, source, raw)
    value = codec("SourceRecord").encode(source_record(recon.name, source, row, "golden", at))
    return row.kafka_key(recon.name), value


BREAK_V1 = fastavro.parse_schema(json.loads((SCHEMA_DIR / "history" / "Break.v1.avsc").read_text()))


def published(event: Event) -> bytes:
    if isinstance(event, Matched):
        return codec("Match").encode(event.datum())
    datum = event.datum()
    assert datum["revision"] == 0 and datum["activity"] is None  # nobody acted on it
    out = io.BytesIO()
    out.write(MAGIC + schema_fingerprint(BREAK_V1))
    fastavro.schemaless_writer(out, BREAK_V1, datum)
    return out.getvalue()


class Worker:
    """What the diff worker does per message, with a dict for its table."""

    def __init__(self, recon: Recon) -> None:
        self.recon = recon
        self.table: dict[bytes, bytes] = {}
        self.out: list[bytes] = []
        self.offsets = {RECORDS: 0, TIMERS: 0}

    def record(self, source: str, raw: dict[str, str], at: datetime) -> None:
        key, value = message(self.recon, source, raw, at)
        (item,) = unpack(key, value, timers=False).items
        assert isinstance(item, RecordIn) and check(self.recon, item) == key
        rkey = {k: item.key[k] for k in self.recon.key}
        stored = Stored.load(self.table.get(key))
        now = appended_at(at.timestamp())
        state, events = apply_record(self.recon, stored.state, rkey, item.incoming, now)
        self.store(key, stored, state, RECORDS)
        self.out += [published(e) for e in events]

    def timers(self, clock: datetime) -> None:
        """Every key's wake-up due by ``clock``, as the timer messages would bring them."""
        for key in sorted(self.table):
            stored = Stored.load(self.table[key])
            due = stored.state.wakeup(self.recon)
            if due is None or due[0] > clock:
                continue
            _, values = json.loads(key)
            rkey = dict(zip(self.recon.key, values, strict=True))
            after, events = on_timer(self.recon, stored.state, rkey, due[0])
            self.store(key, stored, after, TIMERS)
            self.out += [published(e) for e in events]

    def store(self, key: bytes, stored: Stored, state: KeyState | None, topic: str) -> None:
        self.offsets[topic] += 1
        if state is None:
            self.table.pop(key, None)
        else:
            self.table[key] = Stored(state, {**stored.offsets, topic: self.offsets[topic]}).dump()


def run(recon: Recon) -> Worker:
    worker = Worker(recon)
    first, late = feed(recon)
    for n, (source, raw) in enumerate(first):
        worker.record(source, raw, T0 + timedelta(milliseconds=7 * n))
    worker.timers(T0 + timedelta(minutes=1))  # the match windows run out
    for n, (source, raw) in enumerate(late):
        worker.record(source, raw, T0 + timedelta(minutes=5, milliseconds=7 * n))
    worker.timers(T0 + timedelta(minutes=10))
    worker.timers(T0 + timedelta(days=8))  # the settled keys are forgotten
    return worker


def digests(recon: Recon) -> tuple[str, str]:
    from streams.diff.state_json import state_to_json  # the state's JSON form

    worker = run(recon)
    out, table = worker.out, worker.table
    events = hashlib.sha256(b"".join(len(e).to_bytes(4, "big") + e for e in out)).hexdigest()
    states = {
        k.decode(): [state_to_json(Stored.load(v).state), Stored.load(v).offsets]
        for k, v in sorted(table.items())
    }
    text = json.dumps(states, sort_keys=True, separators=(",", ":")).encode()
    return events, hashlib.sha256(text).hexdigest()


def test_the_breaks_matches_and_states_are_those_of_the_core_before_it_was_made_fast() -> None:
    assert digests(load_recon(DEMO)) == (EVENTS_DIGEST, STATES_DIGEST)


if __name__ == "__main__":  # print the digests of the code on PYTHONPATH
    print(digests(load_recon(DEMO)))
