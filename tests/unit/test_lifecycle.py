from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from streams.diff import state_codec
from streams.diff.lifecycle import (
    BreakEvent,
    Event,
    Incoming,
    KeyState,
    Matched,
    apply_command,
    apply_record,
    break_id,
    on_timer,
)
from streams.diff.state_json import state_from_json, state_to_json
from streams.domain.vocabulary import Kind, Status
from streams.domain.workflow import Action, Command, Refused
from streams.recon import Recon

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = {"trade_id": "T1"}


def ledger(amount: str, booking: str = "B1") -> Incoming:
    return Incoming(
        "ledger", booking, {"booking_id": booking, "trade_id": "T1", "amount": Decimal(amount)}
    )


def custody(amount: str) -> Incoming:
    return Incoming("custody", None, {"trade_id": "T1", "amount": Decimal(amount)})


def only_break(events: list[Event]) -> BreakEvent:
    (event,) = [e for e in events if isinstance(e, BreakEvent)]
    return event


def test_agreeing_sources_open_no_break_and_emit_one_match(recon: Recon) -> None:
    state, out = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    assert out == [] and state.deadline(recon) == T0 + timedelta(seconds=30)
    state, out = apply_record(recon, state, KEY, custody("10.01"), T0)
    assert out == [Matched("trades", KEY, ("ledger", "custody"), T0)]
    assert state.deadline(recon) is None
    state, again = apply_record(recon, state, KEY, custody("10.00"), T0)
    assert again == []  # still matched: no second MATCHED event


def test_mismatch_opens_and_amendment_resolves_with_the_same_id(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, out = apply_record(recon, state, KEY, custody("12.00"), T0)
    opened = only_break(out)
    assert opened.brk.kind is Kind.MISMATCH and opened.brk.status is Status.OPEN
    assert opened.brk.fields[0].delta == Decimal("2.00") and opened.brk.version == 1
    state, out = apply_record(recon, state, KEY, custody("10.00"), T0 + timedelta(1))
    resolved = only_break(out)
    assert resolved.brk.status is Status.RESOLVED
    assert resolved.brk.break_id == opened.brk.break_id and resolved.brk.version == 2
    assert any(isinstance(e, Matched) for e in out)


def test_changed_difference_updates_the_open_break(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, first = apply_record(recon, state, KEY, custody("12.00"), T0)
    state, second = apply_record(recon, state, KEY, custody("13.00"), T0)
    assert only_break(second).brk.break_id == only_break(first).brk.break_id
    assert only_break(second).brk.version == 2
    assert only_break(second).brk.fields[0].delta == Decimal("3.00")
    state, same = apply_record(recon, state, KEY, custody("13.00"), T0)
    assert same == []  # a repeated record is not a change


def test_missing_after_match_window_then_late_arrival_resolves(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    after, early = on_timer(recon, state, KEY, T0 + timedelta(seconds=29))
    assert early == [] and after == state
    after, out = on_timer(recon, state, KEY, T0 + timedelta(seconds=30))
    assert after is not None
    missing = only_break(out)
    assert missing.brk.kind is Kind.MISSING and missing.brk.missing_in == "custody"
    assert after.deadline(recon) is None
    after, out = apply_record(recon, after, KEY, custody("10.00"), T0 + timedelta(minutes=5))
    resolved = only_break(out)
    assert resolved.brk.status is Status.RESOLVED
    assert resolved.brk.break_id == missing.brk.break_id


def test_a_duplicate_waiting_for_the_other_side_wakes_once_per_window(recon: Recon) -> None:
    """DUPLICATE outranks MISSING, so the window's end changes nothing on such a key: it must
    not keep waking up (it did, every half second, for ever)."""
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00", "B1"), T0)
    state, out = apply_record(recon, state, KEY, ledger("10.00", "B2"), T0)
    assert only_break(out).brk.kind is Kind.DUPLICATE
    deadline = state.deadline(recon)
    assert deadline == T0 + recon.match_window
    state, out = on_timer(recon, state, KEY, deadline)
    assert out == [] and state is not None
    assert state.wakeup(recon) is None or state.wakeup(recon)[0] > deadline  # type: ignore[index]
    later = T0 + timedelta(minutes=5)
    state, out = apply_record(recon, state, KEY, Incoming("ledger", "B2", {}, True), later)
    assert only_break(out).brk.kind is Kind.MISSING  # the duplicate went: the window had run out


def test_replaying_the_bookings_of_a_duplicate_changes_nothing(recon: Recon) -> None:
    """An amendment keeps the booking's place, so the DUPLICATE's listing (and version) do
    not move when a replay sends the same bookings again."""
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00", "B1"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, _ = apply_record(recon, state, KEY, ledger("10.00", "B2"), T0)
    for record in (ledger("10.00", "B1"), custody("10.00"), ledger("10.00", "B2")):
        state, again = apply_record(recon, state, KEY, record, T0 + timedelta(hours=1))
        assert again == []


def test_second_booking_id_is_a_duplicate_and_same_id_an_amendment(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00", "B1"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, amended = apply_record(recon, state, KEY, ledger("10.00", "B1"), T0)
    assert amended == []
    state, out = apply_record(recon, state, KEY, ledger("10.00", "B2"), T0)
    dup = only_break(out)
    assert dup.brk.kind is Kind.DUPLICATE
    assert dup.brk.fields[0].values == {"ledger": "B1, B2"}
    tombstone = Incoming("ledger", "B2", {}, deleted=True)
    state, out = apply_record(recon, state, KEY, tombstone, T0)
    assert only_break(out).brk.status is Status.RESOLVED


def test_a_tombstone_of_one_side_makes_the_key_wait_again(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, out = apply_record(recon, state, KEY, Incoming("custody", None, {}, True), T0)
    assert out == [] and state.deadline(recon) == T0 + timedelta(seconds=30)


def test_a_new_break_after_resolution_gets_a_new_id(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, first = apply_record(recon, state, KEY, custody("12.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    state, second = apply_record(recon, state, KEY, custody("14.00"), T0)
    assert only_break(second).brk.break_id != only_break(first).brk.break_id
    assert only_break(second).brk.break_id == break_id("trades", KEY, 2)


def test_settled_keys_are_forgotten_after_retention(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    when, is_window = state.wakeup(recon) or (None, None)
    assert when == T0 + recon.state_retention and is_window is False
    kept, _ = on_timer(recon, state, KEY, T0 + timedelta(days=1))
    assert kept == state
    gone, out = on_timer(recon, state, KEY, T0 + recon.state_retention)
    assert gone is None and out == []


def test_a_forgotten_key_that_had_a_break_keeps_its_episode(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("12.00"), T0)
    state, _ = apply_record(recon, state, KEY, custody("10.00"), T0)
    compact, _ = on_timer(recon, state, KEY, T0 + recon.state_retention)
    assert compact == KeyState(generation=1) and compact.wakeup(recon) is None
    later, _ = apply_record(recon, compact, KEY, ledger("11.00"), T0)
    later, out = apply_record(recon, later, KEY, custody("15.00"), T0)
    assert only_break(out).brk.break_id == break_id("trades", KEY, 2)


def test_three_sources_report_which_one_is_missing() -> None:
    recon = Recon.model_validate(
        {
            "name": "three",
            "key": ["id"],
            "match_window": "10s",
            "sources": {s: {"fields": {"id": "string", "qty": "integer"}} for s in "abc"},
        }
    )
    key = {"id": "1"}
    state, _ = apply_record(recon, KeyState(), key, Incoming("a", None, {"id": "1", "qty": 5}), T0)
    state, _ = apply_record(recon, state, key, Incoming("c", None, {"id": "1", "qty": 6}), T0)
    state2, out = on_timer(recon, state, key, T0 + timedelta(seconds=10))
    assert only_break(out).brk.missing_in == "b"
    assert state2 is not None
    _, out = apply_record(recon, state2, key, Incoming("b", None, {"id": "1", "qty": 5}), T0)
    brk = only_break(out).brk
    assert brk.kind is Kind.MISMATCH and brk.fields[0].values == {"a": 5, "b": 5, "c": 6}


def test_state_round_trips_through_json_exactly(recon: Recon) -> None:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.10"), T0)
    state, _ = apply_record(recon, state, KEY, custody("12.00"), T0)
    assert state_from_json(state_to_json(state)) == state
    state, _ = apply_record(recon, state, KEY, custody("10.10"), T0)
    assert state_from_json(state_to_json(state)) == state


# --- the workflow on the break the diff owns ------------------------------------------------


def _command(action: Action, by: str = "mark", **fields: object) -> Command:
    return Command(f"c-{action.value}", action, by, T0, **fields)  # type: ignore[arg-type]


def _mismatched(recon: Recon) -> tuple[KeyState, BreakEvent]:
    state, _ = apply_record(recon, KeyState(), KEY, ledger("10.00"), T0)
    state, out = apply_record(recon, state, KEY, custody("12.00"), T0)
    return state, only_break(out)


def test_an_action_is_the_breaks_next_revision_of_the_same_version(recon: Recon) -> None:
    state, opened = _mismatched(recon)
    later = T0 + timedelta(minutes=5)
    state, out = apply_command(recon, state, KEY, opened.brk.break_id, _command(Action.TAKE), later)
    taken = only_break(out).datum()
    assert (taken["version"], taken["revision"], taken["owner"]) == (1, 1, "mark")
    assert taken["activity"]["action"] == "TAKE" and taken["updated_at"] == later
    assert state_codec.load(state_codec.dump(state, {"c": 7})) == (state, {"c": 7})


def test_a_closed_break_whose_data_changes_is_open_again(recon: Recon) -> None:
    state, opened = _mismatched(recon)
    close = _command(Action.CLOSE, reason="OTHER", version=1)
    state, out = apply_command(recon, state, KEY, opened.brk.break_id, close, T0)
    assert only_break(out).datum()["status"] == "CLOSED"
    state, out = apply_record(recon, state, KEY, custody("13.00"), T0 + timedelta(1))
    changed = only_break(out).datum()
    assert (changed["status"], changed["version"], changed["revision"]) == ("OPEN", 2, 1)
    assert changed["close_reason"] is None and changed["activity"] is None


def test_actions_on_another_break_than_the_keys_current_one_are_refused(recon: Recon) -> None:
    state, opened = _mismatched(recon)
    with pytest.raises(Refused, match="not the current break"):
        apply_command(recon, state, KEY, "b-someone-else", _command(Action.TAKE), T0)
    with pytest.raises(Refused, match="not the current break"):
        apply_command(recon, KeyState(), KEY, opened.brk.break_id, _command(Action.TAKE), T0)
    resolved, _ = apply_record(recon, state, KEY, custody("10.00"), T0 + timedelta(1))
    with pytest.raises(Refused, match="cannot take a RESOLVED break"):
        apply_command(recon, resolved, KEY, opened.brk.break_id, _command(Action.TAKE), T0)
