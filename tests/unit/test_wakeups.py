"""The wake-up index against a plain model of it: a dict from key to its wake-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.diff import wakeups
from streams.diff.wakeups import Wakeup, WakeupIndex

T0 = datetime(2026, 12, 1, tzinfo=UTC)
KEYS = [f'["trades",["T-{n}"]]'.encode() for n in range(6)]
PARTITIONS = range(3)

operation = st.one_of(
    st.tuples(
        st.just("set"),
        st.sampled_from(KEYS),
        st.sampled_from(PARTITIONS),
        st.integers(0, 8),
        st.booleans(),
    ),
    st.tuples(st.just("discard"), st.sampled_from(KEYS)),
    st.tuples(st.just("pop"), st.sampled_from(PARTITIONS), st.integers(-1, 9)),
    st.tuples(st.just("clear")),
)


def check(index: WakeupIndex, model: dict[bytes, Wakeup]) -> None:
    assert len(index) == len(model)
    assert all((key in index) == (key in model) for key in KEYS)
    for partition in PARTITIONS:
        expected = sum(w.window for w in model.values() if w.partition == partition)
        assert index.windows_in(partition) == expected
    assert index.open_windows == sum(w.window for w in model.values())


def run(operations: list[tuple[object, ...]]) -> None:
    index, model = WakeupIndex(), {}
    for op in operations:
        match op:
            case ("set", bytes(key), int(partition), int(seconds), bool(window)):
                wakeup = Wakeup(key, partition, T0 + timedelta(seconds=seconds), window)
                index.set(wakeup)
                model[key] = wakeup
            case ("discard", bytes(key)):
                index.discard(key)
                model.pop(key, None)
            case ("pop", int(partition), int(seconds)):
                clock = T0 + timedelta(seconds=seconds)
                due = index.pop_due(partition, clock)
                expected = {w for w in model.values() if w.partition == partition and w.at <= clock}
                assert set(due) == expected and len(due) == len(expected)
                assert [w.at for w in due] == sorted(w.at for w in due)  # earliest first
                for wakeup in due:
                    del model[wakeup.key]
            case ("clear",):
                index.clear()
                model.clear()
        check(index, model)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_the_index_behaves_like_a_dict_of_wakeups(operations: list[tuple[object, ...]]) -> None:
    run(operations)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_compacting_at_every_step_changes_nothing(operations: list[tuple[object, ...]]) -> None:
    with patch.object(wakeups, "COMPACT_SLACK", 0):
        run(operations)


def test_stale_entries_stay_bounded() -> None:
    index = WakeupIndex()
    for n in range(10_000):  # one key set again and again: every older entry goes stale
        index.set(Wakeup(KEYS[n % 2], 0, T0 + timedelta(seconds=n), n % 3 == 0))
    part = index._partitions[0]
    assert part.entries <= 2 * part.live + wakeups.COMPACT_SLACK + 1
    assert len(part.groups) == len(part.heap) <= part.entries
    assert index.pop_due(0, T0 + timedelta(days=1)) == [
        Wakeup(KEYS[0], 0, T0 + timedelta(seconds=9_998), False),
        Wakeup(KEYS[1], 0, T0 + timedelta(seconds=9_999), True),
    ]


def test_a_wakeup_comes_back_to_the_microsecond() -> None:
    at = datetime(2026, 12, 1, 2, 3, 4, 567891, tzinfo=timezone(timedelta(hours=2)))
    index = WakeupIndex()
    index.set(Wakeup(KEYS[0], 11, at, True))
    (due,) = index.pop_due(11, at)
    assert due == Wakeup(KEYS[0], 11, at, True) and due.at.tzinfo is UTC
    assert index.pop_due(11, at + timedelta(days=365)) == []


def test_a_clock_before_the_wakeup_pops_nothing() -> None:
    index = WakeupIndex()
    index.set(Wakeup(KEYS[0], 0, T0, False))
    assert index.pop_due(0, T0 - timedelta(microseconds=1)) == []
    assert index.pop_due(1, T0) == []
    assert [w.key for w in index.pop_due(0, T0)] == [KEYS[0]]


def test_keys_set_together_share_their_moment() -> None:
    index = WakeupIndex()
    for key in KEYS:
        index.set(Wakeup(key, 0, T0, True))
    codes = {id(code) for code in index._due.values()}
    assert len(codes) == 1
    assert [w.key for w in index.pop_due(0, T0)] == KEYS  # in the order they were set


def test_a_partition_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        WakeupIndex().set(Wakeup(KEYS[0], 1 << 16, T0, True))
