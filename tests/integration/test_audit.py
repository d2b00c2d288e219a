"""The audit trail on the real stack: every action is recorded with who, what (before →
after), when, where and a request id; the trail is hash-chained, append-only for the
application's database role, shipped to ``greenai.audit``, exported as CSV and JSON Lines,
and ``greenai audit verify`` names the first entry edited, deleted or inserted behind its
back (directly in PostgreSQL, as its owner)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from greenai.localstack import ServerUrls
from streams.avro import codec
from streams.ingest.synthetic import TradeGenerator
from tests.integration.browser import Browser
from tests.integration.oracle import records_in_kafka
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline

PASSWORD = "a long and unusual passphrase"


@pytest.fixture(scope="module")
def stack(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    home = tmp_path_factory.mktemp("audit")
    pipeline = start_pipeline(servers, home, "audit")
    try:
        demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
        recon = home / "trades.yaml"
        recon.write_text(yaml.safe_dump(demo | {"match_window": "2s"}, sort_keys=False))
        pipeline.cli("recon", "apply", str(recon))
        generator = TradeGenerator(seed=9, break_rate=0.5)
        pipeline.publish("trades", [generator.pair() for _ in range(40)])
        pipeline.cli("wait", "--timeout", "120", timeout=180)
        yield pipeline
    finally:
        pipeline.group.stop_all()


def api(stack: Pipeline) -> httpx.Client:
    return httpx.Client(
        base_url=stack.bff_url,
        headers={"Authorization": f"Bearer {stack.admin_token}", "User-Agent": "audit-test"},
        timeout=60,
    )


@pytest.fixture(scope="module")
def acted(stack: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every kind of action the trail must show, done once through the API and the CLI."""
    with api(stack) as admin:
        admin.post(
            "/api/users", json={"username": "ana", "roles": ["analyst"], "password": PASSWORD}
        )
        admin.patch("/api/users/ana", json={"roles": ["analyst", "viewer"]})
        token = admin.post("/api/tokens", json={"username": "ana", "name": "cli"}).json()
        admin.delete(f"/api/tokens/{token['token_id']}")
        admin.post("/api/users/ana/sessions/revoke")
    browser = Browser(stack.bff_url)
    browser.sign_in("ana", "wrong password")
    browser.sign_in("ana", PASSWORD)
    target = stack.breaks()[0]
    browser.post(f"/api/breaks/{target['break_id']}/label", json={"cause": "FEE"})
    browser.post(f"/api/breaks/{target['break_id']}/reverse", json={"disposition": "ESCALATE"})
    browser.post("/api/auth/sign-out")
    stack.cli("replay", "--recon", "trades", "--from", "2100-01-01T00:00:00Z")
    stack.cli("model", "rollback", "1", "--reason", "audit test")
    stack.cli("wait", "--timeout", "120", timeout=180)
    return {"break": target}


def entries(stack: Pipeline, **filters: Any) -> list[dict[str, Any]]:
    with api(stack) as admin:
        found = admin.get("/api/audit", params={"limit": 500, **filters})
        found.raise_for_status()
        return list(found.json())


def test_every_kind_of_action_is_in_the_trail_with_who_what_when_where(
    stack: Pipeline, acted: dict[str, Any]
) -> None:
    trail = entries(stack)
    actions = {e["action"] for e in trail}
    assert {
        "recon.apply", "user.create", "user.update", "token.create", "token.revoke",
        "user.sessions_revoked", "auth.sign_in_failed", "auth.sign_in", "break.label",
        "break.reverse", "auth.sign_out", "replay.run", "model.rollback",
    } <= actions  # fmt: skip
    label = next(e for e in trail if e["action"] == "break.label")
    assert label["actor"] == "ana" and label["actor_kind"] == "user"
    assert label["target_type"] == "break" and label["target_id"] == acted["break"]["break_id"]
    assert label["recon"] == "trades"
    assert label["before"]["cause"] == acted["break"]["cause"] and label["after"]["cause"] == "FEE"
    assert label["ip"] == "127.0.0.1" and label["user_agent"] and label["request_id"]
    assert datetime.fromisoformat(label["at"]).tzinfo is not None
    change = next(e for e in trail if e["action"] == "user.update")
    assert change["before"] == {"roles": ["analyst"]}
    assert change["after"] == {"roles": ["analyst", "viewer"]}
    failed = next(e for e in trail if e["action"] == "auth.sign_in_failed")
    assert failed["actor"] == "ana" and failed["actor_kind"] == "anonymous"
    assert [e["seq"] for e in trail] == list(range(1, len(trail) + 1))


def test_a_breaks_own_trail_is_what_was_done_to_it(stack: Pipeline, acted: dict[str, Any]) -> None:
    break_id = acted["break"]["break_id"]
    own = stack.api(f"/api/breaks/{break_id}/audit")
    assert [e["action"] for e in own] == ["break.label", "break.reverse"]


def test_the_trail_is_shipped_to_kafka_entry_by_entry(
    stack: Pipeline, acted: dict[str, Any]
) -> None:
    trail = entries(stack)
    topic = f"{stack.env['GREENAI_TOPIC_PREFIX']}.audit"
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    shipped: list[dict[str, Any]] = []
    while datetime.now(UTC) < deadline:
        messages = records_in_kafka(stack.env["KAFKA_BOOTSTRAP_SERVERS"], topic)
        shipped = [codec("AuditEntry").decode(value) for *_, value, _ in messages]
        if len(shipped) >= len(trail):
            break
    assert [(e["seq"], e["hash"]) for e in shipped[: len(trail)]] == [
        (e["seq"], e["hash"]) for e in trail
    ]


def test_exports_as_csv_and_json_lines_filtered_by_user_break_and_time(
    stack: Pipeline, acted: dict[str, Any], tmp_path: Any
) -> None:
    break_id = acted["break"]["break_id"]
    with api(stack) as admin:
        lines = admin.get(
            "/api/audit/export", params={"format": "jsonl", "actor": "ana"}
        ).text.splitlines()
        by_ana = [json.loads(line) for line in lines]
        table = admin.get("/api/audit/export", params={"format": "csv", "break_id": break_id})
    assert by_ana and {e["actor"] for e in by_ana} == {"ana"}
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["action"] for r in rows] == ["break.label", "break.reverse"]
    assert table.headers["content-disposition"].startswith("attachment")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    out = tmp_path / "none.jsonl"
    stack.cli("audit", "export", "--format", "jsonl", "--from", later, "--out", str(out))
    assert out.read_text() == ""
    cli = stack.cli("audit", "export", "--format", "csv", "--user", "ana").stdout
    assert len(list(csv.DictReader(io.StringIO(cli)))) == len(by_ana)


def test_the_application_role_may_only_read_and_append_the_trail(stack: Pipeline) -> None:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        for statement in (
            "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 1",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def verify(stack: Pipeline) -> tuple[int, str]:
    done = stack.cli("audit", "verify", check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.fixture
def owner(stack: Pipeline) -> Iterator[psycopg.Connection[Any]]:
    """The database as its owner: what an insider would use to rewrite history."""
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        yield conn


def test_an_intact_trail_verifies(stack: Pipeline, acted: dict[str, Any]) -> None:
    code, said = verify(stack)
    assert code == 0 and said.startswith("audit trail intact: ")


def test_an_entry_edited_in_postgresql_is_named(
    stack: Pipeline, acted: dict[str, Any], owner: psycopg.Connection[Any]
) -> None:
    seq = entries(stack, actor="ana")[2]["seq"]
    (actor,) = owner.execute("SELECT actor FROM audit_log WHERE seq = %s", [seq]).fetchone()
    owner.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = %s", [seq])
    try:
        assert verify(stack) == (
            1,
            f"greenai audit verify: entry {seq} was altered: its hash does not match its content",
        )
    finally:
        owner.execute("UPDATE audit_log SET actor = %s WHERE seq = %s", [actor, seq])
    assert verify(stack)[0] == 0


def test_an_entry_deleted_in_postgresql_is_named(
    stack: Pipeline, acted: dict[str, Any], owner: psycopg.Connection[Any]
) -> None:
    seq = entries(stack)[3]["seq"]
    (row,) = [owner.execute("SELECT * FROM audit_log WHERE seq = %s", [seq]).fetchone()]
    owner.execute("DELETE FROM audit_log WHERE seq = %s", [seq])
    try:
        code, said = verify(stack)
        assert code == 1 and f"entry {seq} is missing" in said
    finally:
        owner.execute(
            f"INSERT INTO audit_log VALUES ({', '.join(['%s'] * len(row))})",
            [psycopg.types.json.Jsonb(v) if isinstance(v, dict | list) else v for v in row],
        )
    assert verify(stack)[0] == 0


def test_the_newest_entry_deleted_is_seen_against_what_was_shipped(
    stack: Pipeline, acted: dict[str, Any], owner: psycopg.Connection[Any]
) -> None:
    (last,) = owner.execute("SELECT max(seq) FROM audit_log").fetchone()
    (shipped,) = owner.execute("SELECT seq FROM audit_shipped").fetchone()
    assert shipped == last  # the shipper keeps up
    row = owner.execute("SELECT * FROM audit_log WHERE seq = %s", [last]).fetchone()
    owner.execute("DELETE FROM audit_log WHERE seq = %s", [last])
    try:
        code, said = verify(stack)
        assert code == 1 and f"entry {last} is missing" in said
    finally:
        owner.execute(
            f"INSERT INTO audit_log VALUES ({', '.join(['%s'] * len(row))})",
            [psycopg.types.json.Jsonb(v) if isinstance(v, dict | list) else v for v in row],
        )


def test_an_entry_inserted_in_postgresql_is_named_even_with_a_recomputed_hash(
    stack: Pipeline, acted: dict[str, Any], owner: psycopg.Connection[Any]
) -> None:
    """An insider who may write the table and knows the algorithm still lacks the key."""
    from bff.audit.chain import Entry, canonical

    (last, prev) = owner.execute(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    forged = Entry(last + 1, datetime.now(UTC), "mallory", "user", "break.label", "break",
                   "b-forged", "trades", None, {"cause": "FEE"}, "10.0.0.1", "x", "r")  # fmt: skip
    fake_hash = hashlib.sha256(prev.encode() + b"\n" + canonical(forged)).hexdigest()
    owner.execute(
        "INSERT INTO audit_log (seq, at, actor, actor_kind, action, target_type, target_id, "
        "recon, after, ip, user_agent, request_id, prev_hash, hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [*forged[:8], psycopg.types.json.Jsonb(forged.after), *forged[10:], prev, fake_hash],
    )
    try:
        code, said = verify(stack)
        assert code == 1 and f"entry {last + 1} was altered" in said
    finally:
        owner.execute("DELETE FROM audit_log WHERE seq = %s", [last + 1])
        # the shipper (every 2 s, in its own transaction) may have shipped the forged entry,
        # and may record that after a first reset: reset until a shipping round has passed
        for _ in range(3):
            owner.execute("UPDATE audit_shipped SET seq = least(seq, %s)", [last])
            time.sleep(2.5)
        owner.execute("UPDATE audit_shipped SET seq = least(seq, %s)", [last])
    code, said = verify(stack)
    assert code == 0, said
