"""What people see: a rows and rows/s bar on a terminal, one JSON line otherwise."""

from __future__ import annotations

import json

import pytest

from streams.ingest.progress import RowProgress, print_summary


def test_the_bar_shows_rows_and_rows_per_second_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bar = RowProgress("custody.csv", enabled=True)
    bar.update(5000)
    bar.close()
    out, err = capsys.readouterr()
    assert out == "" and "custody.csv: 5.00k rows" in err and "rows/s" in err


def test_without_a_terminal_there_is_no_bar(capsys: pytest.CaptureFixture[str]) -> None:
    bar = RowProgress("custody.csv")  # pytest's captured stderr is not a terminal
    bar.update(5000)
    bar.close()
    assert capsys.readouterr() == ("", "")


def test_the_summary_is_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    print_summary({"read": 3, "published": 2, "dead_lettered": 1})
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"read": 3, "published": 2, "dead_lettered": 1}
