"""``greenai wait``'s patience: what cannot be measured for a while is not settled."""

from __future__ import annotations

import pytest

from streams.progress import Progress, Unmeasurable, wait_settled

SETTLED = Progress(0, 0, 0, 0)


def test_a_wait_outlives_a_restart_of_what_it_asks() -> None:
    looks = iter([Unmeasurable("the BFF does not answer")] * 3 + [SETTLED] * 500)

    def look() -> Progress:
        found = next(looks)
        if isinstance(found, Exception):
            raise found
        return found

    assert wait_settled(look, timeout=30, interval=0.01) == SETTLED


def test_a_wait_that_never_measures_says_why_when_it_gives_up() -> None:
    def look() -> Progress:
        raise Unmeasurable("the BFF does not answer")

    with pytest.raises(TimeoutError, match="not settled after 0s: the BFF does not answer"):
        wait_settled(look, timeout=0.05, interval=0.01)


def test_settled_twice_a_second_apart_is_needed() -> None:
    looks = iter([SETTLED, Progress(1, 0, 0, 0)] + [SETTLED] * 500)
    assert wait_settled(lambda: next(looks), timeout=30, interval=0.01) == SETTLED
