"""The SQL data-mart connector on the real PostgreSQL: a table that keeps changing while the
connector polls it, a SIGKILL mid-stream, and in the end every row's latest version in Kafka."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from streams.urls import without_password
from tests.integration.connector_servers import Sandbox, sandbox


@pytest.fixture(scope="module")
def mart(servers: ServerUrls) -> str:
    """A fresh schema with a trades table; returns its qualified name."""
    schema = f"mart_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.database_owner(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {servers.database_app_role}")
        conn.execute(
            f"""CREATE TABLE {schema}.trades (
                   id serial PRIMARY KEY,
                   trade_id text,
                   amount numeric(20, 6) NOT NULL,
                   settle_date date NOT NULL,
                   updated_at timestamptz NOT NULL DEFAULT clock_timestamp())"""
        )
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {schema}.trades (trade_id, amount, settle_date) "
                "VALUES (%s, %s, '2026-11-30')",
                [(f"M{i:04d}", Decimal(f"{i}.000001")) for i in range(300)],
            )
        # the mart's reader (the connector) and writer (the test) are the application role
        conn.execute(
            f"GRANT SELECT, INSERT, UPDATE ON {schema}.trades TO {servers.database_app_role}"
        )
        conn.execute(
            f"GRANT USAGE ON SEQUENCE {schema}.trades_id_seq TO {servers.database_app_role}"
        )
    return f"{schema}.trades"


@pytest.fixture(scope="module")
def box(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, mart: str) -> Sandbox:
    env = sandbox(servers, tmp_path_factory.mktemp("sql"), "sql")
    env.apply(
        f"""
name: mart
key: [trade_id]
sources:
  mart:
    connector: {{type: sql, dsn_env: MART_DSN, password_env: MART_PASSWORD, table: {mart},
                watermark: updated_at, batch_rows: 40, interval: 0.2s}}
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
  ledger:
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
"""
    )
    # the DSN without its password, the password apart: as a secret store hands them over
    env.env |= {
        "MART_DSN": without_password(servers.database_url),
        "MART_PASSWORD": secret(servers),
    }
    return env


def secret(servers: ServerUrls) -> str:
    password = urlsplit(servers.database_url).password
    assert password
    return password


def _change_the_table(database_url: str, table: str, stop: threading.Event) -> None:
    """Insert new trades and amend existing ones, each in its own transaction."""
    rng = random.Random(5)
    n = 300
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.is_set():
            if rng.random() < 0.5:
                conn.execute(
                    f"INSERT INTO {table} (trade_id, amount, settle_date) "
                    "VALUES (%s, %s, '2026-12-01')",
                    [f"M{n:04d}", Decimal(f"{n}.5")],
                )
                n += 1
            else:
                conn.execute(
                    f"UPDATE {table} SET amount = amount + 0.000001, "
                    "updated_at = clock_timestamp() WHERE trade_id = %s",
                    [f"M{rng.randrange(n):04d}"],
                )
            time.sleep(0.002)
        conn.execute(  # a row with no key: it must be dead-lettered, not dropped
            f"INSERT INTO {table} (trade_id, amount, settle_date) VALUES (NULL, 1, '2026-12-01')"
        )


def test_a_changing_table_ends_with_every_rows_latest_version_despite_a_sigkill(
    box: Sandbox, mart: str, servers: ServerUrls
) -> None:
    port = free_port()
    run = ("ingest", "run", "--recon", "mart", "--source", "mart")
    connector = box.popen(*run, "--metrics-port", str(port))
    stop = threading.Event()
    writer = threading.Thread(target=_change_the_table, args=(servers.database_url, mart, stop))
    writer.start()
    try:
        metrics = ""
        deadline = time.monotonic() + 30
        while "greenai_ingest_rows_published_total" not in metrics or (
            'greenai_ingest_rows_published_total{recon="mart",source="mart"} 0.0' in metrics
        ):
            assert time.monotonic() < deadline, "the connector published nothing"
            time.sleep(0.2)
            try:
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                continue
        assert 'greenai_ingest_lag_seconds{recon="mart",source="mart"}' in metrics
        assert 'greenai_ingest_backlog{recon="mart",source="mart"}' in metrics
        time.sleep(1.0)
        connector.send_signal(signal.SIGKILL)  # mid-stream, while the table still changes
        connector.wait(timeout=10)
        time.sleep(1.0)
    finally:
        stop.set()
        writer.join(timeout=30)
        if connector.poll() is None:
            connector.kill()
    out, err = connector.communicate(timeout=10)

    finished = box.cli(*run, "--once")
    outputs = out + err + finished.stdout + finished.stderr
    assert secret(servers) not in outputs and "password" not in outputs.lower()

    with psycopg.connect(servers.database_url) as conn:
        final = {
            r[0]: r[1]
            for r in conn.execute(f"SELECT trade_id, amount FROM {mart} WHERE trade_id IS NOT NULL")
        }
    latest: dict[str, Decimal] = {}
    for record in box.records():
        latest[record["key"]["trade_id"]] = record["fields"]["amount"]
    assert len(final) > 300 and latest == final

    (dead,) = box.dead_letters()
    assert dead["reason"] == "missing key field trade_id"
    assert dead["location"].startswith(f"sql:{mart}@updated_at=20")
    assert json.loads(dead["raw"])["amount"] == "1.000000"


def test_a_second_pass_publishes_only_what_changed_since_the_checkpoint(
    box: Sandbox, mart: str, servers: ServerUrls
) -> None:
    run = ("ingest", "run", "--recon", "mart", "--source", "mart", "--once")
    box.cli(*run)
    before = Counter(r["key"]["trade_id"] for r in box.records())
    assert box.cli(*run).stdout == ""
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE {mart} SET amount = 7, updated_at = clock_timestamp() "
            "WHERE trade_id IN ('M0001', 'M0002')"
        )
    (line,) = box.cli(*run).stdout.splitlines()
    assert json.loads(line)["published"] == 2
    records = box.records()
    assert Counter(r["key"]["trade_id"] for r in records) - before == {"M0001": 1, "M0002": 1}
    latest = {r["key"]["trade_id"]: r["fields"]["amount"] for r in records}
    assert latest["M0001"] == latest["M0002"] == Decimal(7)
