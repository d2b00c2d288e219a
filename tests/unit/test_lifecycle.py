from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from streams.diff.lifecycle import (
    Incoming,
    KeyState,
    Kind,
    Status,
    apply_record,
    break_id,
    expire,
    state_from_json,
    state_to_json,
)
from streams.recon import Recon

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = {"trade_id": "T1"}


def ledger(amount: str, booking: str = "B1") -> Incoming:
    return Incoming(
        "ledger", booking, {"booking_id": booking, "trade_id": "T1", "amount": Decimal(amount)}
    )


def custody(amount: str) -> Incoming:
    return Incoming("custody", None, {"trade_id": "T1", "amount": Decimal(amount)})


def test_agreeing_sources_open_no_break(recon: Recon) -> None:
    state, out = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    assert out is None and state.deadline(recon) == T0 + timedelta(seconds=30)
    state, out = apply_record(recon, state, KEY, custody("10.01"), T0)
    assert out is None and state.deadline(recon) is None


def test_mismatch_opens_and_amendment_resolves_with_the_same_id(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, opened = apply_record(recon, state, KEY, custody("12.00"), T0)
    assert opened and opened.brk.kind is Kind.MISMATCH and opened.brk.status is Status.OPEN
    assert opened.brk.fields[0].delta == Decimal("2.00") and opened.brk.version == 1
    state, resolved = apply_record(recon, state, KEY, custody("10.00"), T0 + timedelta(1))
    assert resolved and resolved.brk.status is Status.RESOLVED
    assert resolved.brk.break_id == opened.brk.break_id and resolved.brk.version == 2


def test_changed_difference_updates_the_open_break(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, first = apply_record(recon, state, KEY, custody("12.00"), T0)
    state, second = apply_record(recon, state, KEY, custody("13.00"), T0)
    assert first and second and second.brk.break_id == first.brk.break_id
    assert second.brk.version == 2 and second.brk.fields[0].delta == Decimal("3.00")
    state, same = apply_record(recon, state, KEY, custody("13.00"), T0)
    assert same is None  # a repeated record is not a change


def test_missing_after_match_window_then_late_arrival_resolves(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, early = expire(recon, state, KEY, T0 + timedelta(seconds=29))
    assert early is None
    state, missing = expire(recon, state, KEY, T0 + timedelta(seconds=30))
    assert missing and missing.brk.kind is Kind.MISSING and missing.brk.missing_in == "custody"
    assert state.deadline(recon) is None
    state, resolved = apply_record(recon, state, KEY, custody("10.00"), T0 + timedelta(minutes=5))
    assert resolved and resolved.brk.status is Status.RESOLVED
    assert resolved.brk.break_id == missing.brk.break_id


def test_second_booking_id_is_a_duplicate_and_same_id_an_amendment(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00", "B1"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, amended = apply_record(recon, state, KEY, ledger("10.00", "B1"), T0)
    assert amended is None
    state, dup = apply_record(recon, state, KEY, ledger("10.00", "B2"), T0)
    assert dup and dup.brk.kind is Kind.DUPLICATE
    assert dup.brk.fields[0].values == {"ledger": "B1, B2"}
    state, gone = apply_record(recon, state, KEY, Incoming("ledger", "B2", {}, deleted=True), T0)
    assert gone and gone.brk.status is Status.RESOLVED


def test_a_new_break_after_resolution_gets_a_new_id(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, first = apply_record(recon, state, KEY, custody("12.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, second = apply_record(recon, state, KEY, custody("14.00"), T0)
    assert first and second and second.brk.break_id != first.brk.break_id
    assert second.brk.break_id == break_id("trades", KEY, 2)


def test_state_round_trips_through_json_exactly(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.10"), T0)
    state, _ = apply_record(recon, state, KEY, custody("12.00"), T0)
    assert state_from_json(state_to_json(state)) == state
