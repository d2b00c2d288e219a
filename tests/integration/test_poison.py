"""Poison messages never stop a consumer. Messages no consumer can decode or apply — empty,
truncated, random bytes, a null value, an unknown schema fingerprint, a key that is not a
recon key, records of a recon whose definition no longer takes them — are put on every
topic greenai consumes. Each is dead-lettered with its reason by the consumer that met it,
as is a break PostgreSQL refuses to store; no process restarts, and a clean feed published
afterwards is stored exactly.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from confluent_kafka import Producer

from streams.avro import MAGIC, codec, value_to_avro
from streams.database import load_recon
from streams.ingest.synthetic import TradeGenerator
from streams.keys import recon_key_bytes
from tests.integration.oracle import compare, expected_breaks, records_in_kafka
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline

ROUNDS = 3  # of every kind of poison, so a consumer meets them in every position of a batch


def undecodable(schema: str) -> list[tuple[str, bytes | None]]:
    """Values no reader of ``schema`` can decode, each with what it is."""
    return [
        ("empty", b""),
        ("truncated", truncated(schema)),
        ("random bytes", os.urandom(64)),
        ("null value", None),
        ("unknown fingerprint", MAGIC + b"\x00" * 8 + os.urandom(40)),
        ("header only", MAGIC + codec(schema).fingerprint),
    ]


def truncated(schema: str) -> bytes:
    if schema == "SourceRecord":
        whole = record({"trade_id": "T-TRUNC"}, {"trade_id": "T-TRUNC"})
    elif schema == "Feedback":
        whole = codec("Feedback").encode(
            {
                "action": "ROLLBACK",
                "break_id": None,
                "cause": None,
                "disposition": None,
                "model_version": 1,
                "snapshot": None,
                "previous_cause": None,
                "previous_disposition": None,
                "analyst": "someone",
                "origin": "test",
                "reason": "a long enough reason " * 4,
                "at": datetime.now(UTC),
            }
        )
    elif schema == "DiffTimer":
        whole = codec("DiffTimer").encode(
            {"recon": "trades", "key": {"trade_id": "T-P"}, "deadline": datetime.now(UTC)}
        )
    else:
        whole = codec(schema).encode(a_break())
    return whole[: len(whole) // 2]


def record(key: dict[str, str], fields: dict[str, Any], source: str = "custody") -> bytes:
    return codec("SourceRecord").encode(
        {
            "recon": "trades",
            "source": source,
            "key": key,
            "record_id": None,
            "deleted": False,
            "fields": {k: value_to_avro(v) for k, v in fields.items()},
            "origin": "poison",
            "published_at": datetime.now(UTC),
        }
    )


def a_break() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "break_id": "b-poison",
        "recon": "trades",
        "key": {"trade_id": "T-P"},
        "kind": "MISSING",
        "missing_in": "custody",
        "status": "OPEN",
        "fields": [],
        "records": {},
        "cause": None,
        "confidence": None,
        "explanation": [],
        "disposition": None,
        "priority": None,
        "first_seen": now,
        "updated_at": now,
        "version": 1,
    }


@pytest.fixture(scope="module")
def poisoned(
    servers: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Pipeline, dict[str, int], Counter[tuple[str, str]]]:
    tmp = tmp_path_factory.mktemp("poison")
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
    demo["match_window"] = "5s"
    (tmp / "trades.yaml").write_text(yaml.safe_dump(demo, sort_keys=False))
    pipeline = start_pipeline(servers, tmp, "poison")
    pipeline.cli("recon", "apply", str(tmp / "trades.yaml"))
    pids = dict(pipeline.group.pids)
    prefix = pipeline.env["GREENAI_TOPIC_PREFIX"]
    producer = Producer({"bootstrap.servers": pipeline.env["KAFKA_BOOTSTRAP_SERVERS"]})
    sent: Counter[tuple[str, str]] = Counter()  # (stage, what)
    key = recon_key_bytes("trades", {"trade_id": "T-P"})
    for n in range(ROUNDS):
        for what, value in undecodable("SourceRecord"):
            producer.produce(f"{prefix}.records", value=value, key=key)
            sent[("diff", what)] += 1
        for what, value in undecodable("DiffTimer"):
            producer.produce(f"{prefix}.diff.timers", value=value, key=key)
            sent[("diff", what)] += 1
        valid = record({"trade_id": "T-K"}, {"trade_id": "T-K"})
        for what, bad_key in [("non-JSON key", b"T-K"), ("empty key", b"")]:
            producer.produce(f"{prefix}.records", value=valid, key=bad_key)
            sent[("diff", what)] += 1
        changed = [
            (
                "a key the recon no longer has",
                {"trade_ref": "T-R"},
                {"trade_ref": "T-R"},
                "custody",
            ),
            ("a type the recon no longer has", {"trade_id": "T-Y"}, {"amount": "12.x"}, "custody"),
            ("a source the recon no longer has", {"trade_id": "T-S"}, {}, "mainframe"),
        ]
        for what, rkey, fields, source in changed:
            producer.produce(
                f"{prefix}.records",
                value=record(rkey, fields, source),
                key=recon_key_bytes("trades", rkey),
            )
            sent[("diff", what)] += 1
        for what, value in undecodable("Break"):
            producer.produce(f"{prefix}.breaks", value=value, key=b"b-poison")
            sent[("attribution", what)] += 1
            producer.produce(f"{prefix}.breaks.attributed", value=value, key=b"b-poison")
            sent[("sink", what)] += 1
        refused = a_break() | {"break_id": f"b-nul-{n}", "key": {"trade_id": "T\x00NUL"}}
        producer.produce(
            f"{prefix}.breaks.attributed",
            value=codec("Break").encode(refused),
            key=refused["break_id"].encode(),  # a compacted topic takes keyed messages only
        )
        sent[("sink", "a break PostgreSQL refuses")] += 1
        for what, value in undecodable("Feedback"):
            producer.produce(f"{prefix}.feedback", value=value, key=b"model")
            sent[("attribution", what)] += 1
    assert producer.flush(30) == 0
    generator = TradeGenerator(seed=5, break_rate=0.2)
    pipeline.publish("trades", [generator.pair() for _ in range(2000)], per_second=1000)
    pipeline.cli("wait", "--timeout", "180", timeout=240)
    yield pipeline, pids, sent
    pipeline.group.stop_all()


def dead_letters(pipeline: Pipeline) -> list[dict[str, Any]]:
    prefix = pipeline.env["GREENAI_TOPIC_PREFIX"]
    messages = records_in_kafka(pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], f"{prefix}.deadletter")
    return [codec("DeadLetter").decode(value) for *_, value, _ in messages]


def test_no_process_restarted(
    poisoned: tuple[Pipeline, dict[str, int], Counter[tuple[str, str]]],
) -> None:
    pipeline, pids, _ = poisoned
    assert pipeline.group.first_exit(timeout=0) is None
    assert pipeline.group.pids == pids


def test_every_poison_message_is_dead_lettered_once_with_its_reason(
    poisoned: tuple[Pipeline, dict[str, int], Counter[tuple[str, str]]],
) -> None:
    pipeline, _, sent = poisoned
    dead = dead_letters(pipeline)
    by_stage = Counter(d["stage"] for d in dead)
    expected = Counter()
    for (stage, _), n in sent.items():
        expected[stage] += n
    assert by_stage == expected
    reasons = " | ".join(sorted({d["reason"] for d in dead}))
    for fragment in (
        "null value",
        "undecodable SourceRecord",
        "unknown SourceRecord writer schema fingerprint",
        "not an Avro single-object message",
        "the Kafka key is not a recon key",
        "is keyed by ['trade_id'] now",
        "declares amount as decimal now; the record has str",
        "has no source 'mainframe'",
        "undecodable Break",
        "undecodable Feedback",
        "PostgreSQL refused the break",
    ):
        assert fragment in reasons, fragment
    assert all(d["location"] for d in dead)


def test_a_clean_feed_after_the_poison_is_stored_exactly(
    poisoned: tuple[Pipeline, dict[str, int], Counter[tuple[str, str]]],
) -> None:
    pipeline, _, _ = poisoned
    recon = load_recon(pipeline.env["DATABASE_URL"], "trades")
    prefix = pipeline.env["GREENAI_TOPIC_PREFIX"]
    messages = records_in_kafka(pipeline.env["KAFKA_BOOTSTRAP_SERVERS"], f"{prefix}.records")
    expected = expected_breaks(recon, messages)  # the oracle skips what the diff refuses
    assert len(expected) > 100
    assert compare(expected, pipeline.breaks()) == []
