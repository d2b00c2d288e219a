"""Recon changes on a running stack: what its state can absorb applies live; what it cannot
is refused by ``greenai recon apply`` with one line, and no worker ever stops over it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenai.localstack import ServerUrls
from streams.database import load_recon
from streams.ingest.synthetic import TradeGenerator
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline

DEMO = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())


@pytest.fixture(scope="module")
def running(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipeline = start_pipeline(servers, tmp_path_factory.mktemp("changes"), "changes")
    try:
        yield pipeline
    finally:
        pipeline.group.stop_all()


def apply(pipeline: Pipeline, tmp: Path, definition: dict[str, Any]) -> tuple[int, str]:
    path = tmp / "recon.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    done = pipeline.cli("recon", "apply", str(path), check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


def test_changes_the_state_cannot_absorb_are_refused_and_workers_keep_running(
    running: Pipeline, tmp_path: Path
) -> None:
    pids = dict(running.group.pids)
    broker = {"fields": {"trade_id": "string", "amount": "decimal", "currency": "string"}}
    three = copy.deepcopy(DEMO) | {"match_window": "5s"}
    three["sources"] = {**DEMO["sources"], "broker": broker}
    assert apply(running, tmp_path, three)[0] == 0
    generator = TradeGenerator(seed=12, break_rate=0.1)
    running.publish("trades", [generator.pair() for _ in range(300)])
    running.cli("wait", "--timeout", "120", timeout=180)

    rekeyed = copy.deepcopy(three) | {"key": ["trade_id", "currency"]}
    code, said = apply(running, tmp_path, rekeyed)
    assert code == 1 and len(said.splitlines()) == 1
    changes = "the key changes from ['trade_id'] to ['trade_id', 'currency']"
    assert said.startswith("greenai recon: refused: recon trades: ") and changes in said

    retyped = copy.deepcopy(three)
    retyped["sources"]["custody"]["fields"]["amount"] = "string"
    code, said = apply(running, tmp_path, retyped)
    assert code == 1 and "field amount of source custody changes type" in said

    without_custody = copy.deepcopy(three)
    del without_custody["sources"]["custody"]
    code, said = apply(running, tmp_path, without_custody)
    assert code == 1 and "source custody is removed while it holds" in said

    code, said = apply(running, tmp_path, copy.deepcopy(DEMO) | {"match_window": "5s"})
    assert code == 0, said  # broker never held a booking: removing it is fine
    assert load_recon(running.env["DATABASE_URL"], "trades").source_names == ["ledger", "custody"]
    assert running.group.first_exit(timeout=0) is None and running.group.pids == pids


def test_the_stored_definition_keeps_the_order_of_its_sources(
    running: Pipeline, tmp_path: Path
) -> None:
    """The first source is the left side: storing must not reorder them (jsonb would)."""
    flipped = {
        "name": "flipped",
        "key": ["id"],
        "sources": {
            "custodian_statement": {"fields": {"id": "string", "amount": "decimal"}},
            "bank": {"fields": {"id": "string", "amount": "decimal"}},
        },
    }
    assert apply(running, tmp_path, flipped)[0] == 0
    stored = load_recon(running.env["DATABASE_URL"], "flipped")
    assert stored.source_names == ["custodian_statement", "bank"]
