"""The S3 connector against moto's standalone S3 server on loopback (a real HTTP S3 API):
objects under a prefix published once, bad rows dead-lettered by object key, changed
objects read again, credentials only from the environment."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from tests.integration.connector_servers import Sandbox, sandbox

KEY_ID, SECRET = "AKIDGREENAI", "s3-" + uuid.uuid4().hex
HEADER = "TradeRef,Amt,SettleDt\n"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> Any:
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    b = s3.Bucket("drops")
    b.create()
    return b


@pytest.fixture(scope="module")
def box(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Sandbox:
    env = sandbox(servers, tmp_path_factory.mktemp("s3"), "s3")
    env.apply(
        f"""
name: objects
key: [trade_id]
sources:
  custody:
    rename: {{TradeRef: trade_id, Amt: amount, SettleDt: settle_date}}
    connector: {{type: s3, bucket: drops, prefix: custody/, endpoint_url: '{s3_endpoint}',
                region: us-east-1, access_key_id_env: DROPS_KEY_ID,
                secret_access_key_env: DROPS_SECRET}}
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
  ledger:
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
"""
    )
    env.env |= {"DROPS_KEY_ID": KEY_ID, "DROPS_SECRET": SECRET}
    return env


RUN = ("ingest", "run", "--recon", "objects", "--source", "custody", "--once")


def _summaries(box: Sandbox) -> list[dict[str, Any]]:
    done = box.cli(*RUN)
    assert SECRET not in done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_objects_under_the_prefix_are_published_once_and_bad_rows_name_their_key(
    box: Sandbox, bucket: Any
) -> None:
    bucket.put_object(Key="custody/2026-11-30.csv", Body=HEADER + "S1,10.10,2026-11-30\n")
    bucket.put_object(
        Key="custody/2026-12-01.jsonl",
        Body='{"TradeRef": "S2", "Amt": 20.2, "SettleDt": "2026-12-01"}\n'
        '{"TradeRef": "S3", "Amt": "2o.2", "SettleDt": "2026-12-01"}\n',
    )
    bucket.put_object(Key="custody/empty.csv", Body=b"")
    bucket.put_object(Key="ledger/elsewhere.csv", Body=HEADER + "L1,1,2026-11-30\n")
    bucket.put_object(Key="custody/notes.txt", Body=b"not data")

    first = _summaries(box)
    assert [(s["file"], s["read"], s["published"], s["dead_lettered"]) for s in first] == [
        ("s3://drops/custody/2026-11-30.csv", 1, 1, 0),
        ("s3://drops/custody/2026-12-01.jsonl", 2, 1, 1),
        ("s3://drops/custody/empty.csv", 1, 0, 1),
    ]
    assert _summaries(box) == []  # every object done: nothing again

    dead = {d["location"]: d["reason"] for d in box.dead_letters()}
    assert dead == {
        "s3://drops/custody/2026-12-01.jsonl:2": "amount: not a decimal: '2o.2'",
        "s3://drops/custody/empty.csv:0": "empty file",
    }
    keys = Counter(r["key"]["trade_id"] for r in box.records())
    assert keys == {"S1": 1, "S2": 1}


def test_a_replaced_object_is_read_again_and_a_new_one_alone(box: Sandbox, bucket: Any) -> None:
    bucket.put_object(Key="custody/2026-11-30.csv", Body=HEADER + "S1,10.11,2026-11-30\n")
    bucket.put_object(Key="custody/2026-12-02.csv", Body=HEADER + "S4,40,2026-12-02\n")
    assert sorted(s["file"] for s in _summaries(box)) == [
        "s3://drops/custody/2026-11-30.csv",
        "s3://drops/custody/2026-12-02.csv",
    ]
    latest = {r["key"]["trade_id"]: str(r["fields"]["amount"]) for r in box.records()}
    assert latest == {"S1": "10.11", "S2": "20.2", "S4": "40"}


def test_missing_credentials_variable_fails_with_one_line(box: Sandbox) -> None:
    env_without = {k: v for k, v in box.env.items() if k != "DROPS_SECRET"}
    failed = Sandbox(env_without, box.home, box.group).cli(*RUN, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        "greenai ingest: environment variable DROPS_SECRET (aws_secret_access_key_env) is not set"
    )
