"""Bounded resources at the BFF: keyset pages with a maximum, request size limits, one Redis
subscription per process whatever the number of SSE clients."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
import redis
import yaml

from streams.ingest.synthetic import TradeGenerator
from tests.integration.pipeline import ROOT, Pipeline
from tests.integration.sse import SseRecorder


@pytest.fixture(scope="module")
def loaded(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    path = tmp_path_factory.mktemp("bounds") / "trades.yaml"
    path.write_text(yaml.safe_dump(demo | {"match_window": "3s"}, sort_keys=False))
    pipeline.cli("recon", "apply", str(path))
    generator = TradeGenerator(seed=21, break_rate=0.6)
    pipeline.publish("trades", [generator.pair() for _ in range(2400)], per_second=2000)
    pipeline.cli("wait", "--timeout", "180", timeout=240)
    return pipeline


def pages(pipeline: Pipeline, limit: int) -> list[list[dict[str, Any]]]:
    url: str | None = f"{pipeline.bff_url}/api/breaks?status=all&limit={limit}"
    out = []
    client = pipeline.http()
    while url:
        response = client.get(url)
        response.raise_for_status()
        out.append(response.json())
        url = response.links.get("next", {}).get("url")
    return out


def test_keyset_pages_hold_every_break_once_newest_first(loaded: Pipeline) -> None:
    got = pages(loaded, 250)
    every = [b for page in got for b in page]
    assert len(got) >= 4 and all(len(page) <= 250 for page in got)
    assert len(every) == len({b["break_id"] for b in every}) == len(loaded.breaks())
    order = [(datetime.fromisoformat(b["updated_at"]), b["break_id"]) for b in every]
    assert order == sorted(order, reverse=True)


def test_a_page_is_at_most_a_thousand_and_a_foreign_cursor_is_refused(loaded: Pipeline) -> None:
    client, base = loaded.http(), "/api/breaks"
    assert client.get(f"{base}?limit=1001").status_code == 422
    assert len(client.get(f"{base}?status=all").json()) <= 1000
    refused = client.get(f"{base}?cursor=not-ours")
    assert refused.status_code == 400 and "cursor" in refused.text


def test_request_bodies_and_text_fields_are_bounded(loaded: Pipeline) -> None:
    target = loaded.breaks()[0]["break_id"]
    url, client = f"/api/breaks/{target}/label", loaded.http()
    huge = client.post(url, content=b"{" + b" " * (2 << 20) + b"}")
    assert huge.status_code == 413
    long_reason = client.post(url, json={"cause": "FEE", "reason": "x" * 5000})
    assert long_reason.status_code == 422


def test_sse_clients_share_one_redis_subscription(loaded: Pipeline) -> None:
    url = f"{loaded.bff_url}/api/stream"
    clients = [SseRecorder(url, loaded.admin_token) for _ in range(5)]
    for client in clients:
        client.start()
    try:
        assert all(client.ready.wait(20) for client in clients)
        time.sleep(0.5)
        channel = f"{loaded.env['GREENAI_TOPIC_PREFIX']}:breaks"
        with redis.Redis.from_url(loaded.env["REDIS_URL"]) as client:
            ((_, subscribers),) = client.pubsub_numsub(channel)
        assert subscribers == 1
    finally:
        for client in clients:
            client.stop()
