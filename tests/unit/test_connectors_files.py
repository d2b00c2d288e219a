"""File-drop building blocks: no-row files, Parquet cells, the partial-file rule and the
checkpoint store."""

from __future__ import annotations

import multiprocessing
from datetime import date
from decimal import Decimal
from multiprocessing.synchronize import Event
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streams.ingest.checkpoint import CheckpointStore, SourceBusy, entry_name
from streams.ingest.files import exact_cell, read_file
from streams.ingest.settle import Listed, Settling, is_candidate


def test_a_file_without_rows_yields_one_problem_row_saying_why(tmp_path: Path) -> None:
    cases = {
        "empty.csv": ("", "empty file"),
        "blank.jsonl": ("\n\n", "empty file"),
        "header.csv": ("a,b\n", "no rows: the file has only a header"),
    }
    for name, (text, reason) in cases.items():
        (tmp_path / name).write_text(text)
        (row,) = read_file(tmp_path / name)
        assert (row.location, row.problem) == (f"{name}:0", reason)
    (good,) = read_file(tmp_path / "header.csv", label="s3://b/header.csv")
    assert good.location == "s3://b/header.csv:0" and good.row["first_line"] == "a,b"


def test_parquet_rows_keep_exact_types_and_floats_become_shortest_text(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["A", "B"],
                "amount": pa.array([Decimal("1.10"), None], pa.decimal128(10, 2)),
                "rate": [0.1, 1e-7],
                "day": [date(2026, 11, 30), None],
                "blob": [b"ok", b"\xff"],
            }
        ),
        path,
    )
    first, second = read_file(path)
    assert first.location == "t.parquet:1" and first.problem is None
    assert first.row == {
        "id": "A",
        "amount": Decimal("1.10"),
        "rate": "0.1",
        "day": date(2026, 11, 30),
        "blob": "ok",
    }
    assert second.row["rate"] == "1e-07" and second.problem == "blob: bad encoding: not UTF-8"


def test_an_unreadable_parquet_file_is_a_problem_row_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    (row,) = read_file(path)
    assert row.location == "broken.parquet:0" and row.problem
    assert row.problem.startswith("not a readable Parquet file")


def test_exact_cell_never_lets_a_float_through() -> None:
    assert exact_cell(0.1) == ("0.1", None)
    assert exact_cell(Decimal("2.50")) == (Decimal("2.50"), None)
    assert exact_cell({"a": 1}) == ('{"a": 1}', None)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("trades.csv", True),
        ("trades.parquet", True),
        ("trades.ndjson", True),
        (".trades.csv", False),
        ("trades.csv.part", False),
        ("trades.csv.tmp", False),
        ("trades.csv.done", False),
        ("trades.txt", False),
        ("other.csv", False),
    ],
)
def test_candidates_are_data_files_matching_the_pattern(name: str, ok: bool) -> None:
    assert is_candidate(name, "trades*") is ok


def test_a_file_is_ready_only_after_the_same_size_for_the_settle_time() -> None:
    settling = Settling(settle=2.0)
    growing = [Listed("a.csv", 10, 1), Listed("b.csv", 5, 1)]
    ready, waiting = settling.split(growing, "*", now=0.0)
    assert ready == [] and [w.name for w in waiting] == ["a.csv", "b.csv"]
    ready, _ = settling.split([Listed("a.csv", 20, 2), Listed("b.csv", 5, 1)], "*", now=1.0)
    assert ready == []  # b unchanged, but only for 1s
    ready, waiting = settling.split([Listed("a.csv", 20, 2), Listed("b.csv", 5, 1)], "*", now=2.5)
    assert [r.name for r in ready] == ["b.csv"] and [w.name for w in waiting] == ["a.csv"]
    ready, _ = settling.split([Listed("a.csv", 20, 2)], "*", now=3.0)
    assert [r.name for r in ready] == ["a.csv"]


def test_with_done_markers_only_marked_files_are_ready() -> None:
    settling = Settling(settle=60.0, done_marker=True)
    listing = [Listed("a.csv", 1, 1), Listed("a.csv.done", 0, 1), Listed("b.csv", 1, 1)]
    ready, waiting = settling.split(listing, "*", now=0.0)
    assert [r.name for r in ready] == ["a.csv"] and [w.name for w in waiting] == ["b.csv"]


def test_checkpoints_round_trip_and_live_under_prefix_recon_source(tmp_path: Path) -> None:
    store = CheckpointStore.for_source(tmp_path, "greenai", "trades", "ledger")
    name = entry_name("file", "/drops/a.csv")
    assert store.get(name) is None
    store.put(name, {"rows": 10, "done": False})
    store.put(name, {"rows": 20, "done": True})
    assert store.get(name) == {"rows": 20, "done": True}
    assert (tmp_path / "ingest" / "greenai" / "trades" / "ledger" / f"{name}.json").exists()
    assert not list(store.root.glob(".*tmp"))
    assert entry_name("file", "/drops/a.csv") == name != entry_name("file", "/drops/b.csv")


def _hold(root: str, ready: Event) -> None:
    with CheckpointStore(Path(root)).exclusive("connector"):
        ready.set()
        multiprocessing.Event().wait(30)


def test_one_long_running_connector_per_source(tmp_path: Path) -> None:
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(tmp_path), ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(SourceBusy), CheckpointStore(tmp_path).exclusive("connector"):
            pass
    finally:
        holder.kill()
        holder.join()
    with CheckpointStore(tmp_path).exclusive("connector"):  # freed by the holder's death
        pass
