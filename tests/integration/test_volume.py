"""Realistic volume through the whole pipeline, as a new user would run it: two CSV files of
2,000 trades per source, a 5 s match window, published with ``greenai ingest file`` one
after the other (so the custodian's rows arrive as the ledger's windows run out), then a
third pair of files for both sources at the same time; and 2,000 more trades streamed
with the custodian's rows exactly one match window behind the ledger's, the timing in which
the diff's timer and its agent touch the same keys at the same moment.

This is the run that crash-looped the diff worker (a wake-up index changed under an
``await``): every worker must still be the process it started as, and the stored breaks
must be exactly the oracle's.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenai.localstack import ServerUrls
from streams.batches import BatchCodec
from streams.database import load_recon
from streams.ingest.synthetic import TradeGenerator, TradePair
from streams.recon import Recon
from tests.integration.oracle import compare, expected_breaks, records_in_kafka
from tests.integration.pipeline import GREENAI, ROOT, Pipeline, start_pipeline

TRADES_PER_FILE = 2000


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def files(tmp: Path, pairs: list[TradePair], n: int) -> tuple[Path, Path]:
    ledger = [row for p in pairs for row in p.ledger]
    custody = [row for p in pairs for row in p.custody]
    return write_csv(tmp / f"ledger-{n}.csv", ledger), write_csv(tmp / f"custody-{n}.csv", custody)


@pytest.fixture(scope="module")
def run(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Pipeline, Recon, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("volume")
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    demo["match_window"] = "5s"
    recon_file = tmp / "trades.yaml"
    recon_file.write_text(yaml.safe_dump(demo, sort_keys=False))
    generator = TradeGenerator(seed=88, break_rate=0.15)
    first = files(tmp, [generator.pair() for _ in range(TRADES_PER_FILE)], 1)
    second = files(tmp, [generator.pair() for _ in range(TRADES_PER_FILE)], 2)
    third = files(tmp, [generator.pair() for _ in range(TRADES_PER_FILE)], 3)

    # Small producer batches make the diff's sends wait for the broker often, so its timer
    # and its agent interleave as they do on a loaded machine.
    pipeline = start_pipeline(servers, tmp, "volume", diff_env={"PRODUCER_MAX_BATCH_SIZE": "2048"})
    try:
        pids = dict(pipeline.group.pids)
        pipeline.cli("recon", "apply", str(recon_file))
        for path, source in [
            (first[0], "ledger"),
            (second[0], "ledger"),
            (first[1], "custody"),
            (second[1], "custody"),
        ]:
            pipeline.cli("ingest", "file", "--recon", "trades", "--source", source, str(path))
        pipeline.cli("wait", "--timeout", "240", timeout=300)
        pairs = [generator.pair() for _ in range(TRADES_PER_FILE)]
        pipeline.publish_lagged("trades", pairs, per_second=1000, lag=5.3)
        both = [
            subprocess.Popen(
                [*GREENAI, "ingest", "file", "--recon", "trades", "--source", source, str(path)],
                env=pipeline.env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for path, source in zip(third, ("ledger", "custody"), strict=True)
        ]
        for proc in both:
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err.decode()
        pipeline.cli("wait", "--timeout", "240", timeout=300)
        yield pipeline, load_recon(pipeline.env["DATABASE_URL"], "trades"), pids
    finally:
        pipeline.group.stop_all()


def test_every_worker_survives_two_files_per_source_with_a_short_window(
    run: tuple[Pipeline, Recon, dict[str, int]],
) -> None:
    pipeline, _, pids = run
    assert pipeline.group.first_exit(timeout=0) is None, "a worker exited"
    assert pipeline.group.pids == pids


def test_the_stored_breaks_are_exactly_the_oracles(
    run: tuple[Pipeline, Recon, dict[str, int]],
) -> None:
    pipeline, recon, _ = run
    messages = records_in_kafka(
        pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], f"{pipeline.env['GREENAI_TOPIC_PREFIX']}.records"
    )
    records = sum(len(BatchCodec("SourceRecord").decode(value or b"")) for *_, value, _ in messages)
    assert records >= 8 * TRADES_PER_FILE
    expected = expected_breaks(recon, messages)
    stored: list[dict[str, Any]] = pipeline.breaks()
    assert {b["kind"] for b in stored} == {"MISMATCH", "MISSING", "DUPLICATE"}
    assert compare(expected, stored) == []
