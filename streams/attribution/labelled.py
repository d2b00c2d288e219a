"""Labelled breaks (pure): generated trades run through the real diff lifecycle, with the
cause that was injected. The model evaluation, the comparison and the benchmark draw on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.diff.lifecycle import BreakEvent, Event, Incoming, KeyState, apply_record, on_timer
from streams.ingest.synthetic import TradeGenerator, TradePair
from streams.ingest.validate import canonical_row
from streams.recon import Recon

# A realistic mix: timing and rounding breaks are common, keying errors and doubles rare.
REALISTIC_MIX = {
    "TIMING": 0.22,
    "ROUNDING": 0.18,
    "FX": 0.12,
    "STATIC_DATA": 0.12,
    "FAT_FINGER": 0.07,
    "FEE": 0.14,
    "MISSING_BOOKING": 0.09,
    "DUPLICATE_BOOKING": 0.06,
}
EPOCH = datetime(2026, 11, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class LabelledBreak:
    brk: dict[str, Any]  # the Break datum as the diff publishes it
    cause: str


def break_of(recon: Recon, pair: TradePair, now: datetime) -> BreakEvent | None:
    """The last break event the diff emits for a trade pair (None when the sources agree)."""
    key: dict[str, str | None] = {"trade_id": pair.trade_id}
    state, events = KeyState(), list[Event]()
    for source, rows in zip(recon.source_names, (pair.ledger, pair.custody), strict=True):
        for raw in rows:
            row = canonical_row(recon, source, raw)
            incoming = Incoming(source, row.record_id, row.fields)
            state, out = apply_record(recon, state, key, incoming, now)
            events += out
    if state.waiting_since is not None:
        _, out = on_timer(recon, state, key, now + recon.match_window)
        events += out
    breaks = [e for e in events if isinstance(e, BreakEvent)]
    return breaks[-1] if breaks else None


def labelled_breaks(
    recon: Recon,
    n: int,
    *,
    seed: int,
    variety: bool = True,
    mix: dict[str, float] | None = REALISTIC_MIX,
) -> Iterator[LabelledBreak]:
    """``n`` breaks with their true cause, in arrival order (pairs that do not break are
    skipped: some injected differences fall inside the recon's tolerances)."""
    generator = TradeGenerator(seed=seed, break_rate=1.0, variety=variety, cause_weights=mix)
    made = 0
    while made < n:
        pair = generator.pair()
        event = break_of(recon, pair, EPOCH + timedelta(seconds=generator.n))
        if event is None or pair.cause is None:
            continue
        made += 1
        yield LabelledBreak(event.datum(), pair.cause)
