"""The local stack's credentials without servers: secrets.json, how the settings find the
passwords, what may be written to files, the modes of GREENAI_HOME."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from greenai.localstack import ServerUrls
from greenai.localstack.kafka_sasl import authentication
from greenai.localstack.postgres_auth import hba_trusts
from greenai.localstack.private import lock_down
from greenai.localstack.secrets import AppliedMark, ensure_secrets
from streams.kafka import FROM_SETTINGS, resolve_security
from streams.kafka_security import KafkaSecurity, security_from_env
from streams.settings import NotConfigured, load_settings
from streams.stack_secrets import CREDENTIALS, Credential, load_secrets

VARIABLES = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "REDIS_URL",
    "GREENAI_DATABASE_OWNER_URL",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "GREENAI_BFF_PORT",
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GREENAI_HOME with secrets and the stack.json of a running local stack."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GREENAI_HOME", str(tmp_path))
    secrets = ensure_secrets(tmp_path)
    urls = ServerUrls(
        "127.0.0.1:9092",
        f"postgresql://greenai_app:{secrets['postgres_app'].password}@127.0.0.1:5432/greenai",
        f"redis://greenai:{secrets['redis'].password}@127.0.0.1:6379/0",
        f"postgresql://greenai:{secrets['postgres_owner'].password}@127.0.0.1:5432/greenai",
        KafkaSecurity("SASL_PLAINTEXT", "SCRAM-SHA-256", "greenai", secrets["kafka"].password),
    )
    (tmp_path / "stack.json").write_text(json.dumps({**urls.public(), "bff_port": 8123}))
    return tmp_path


def test_secrets_are_made_once_private_and_keep_other_entries(tmp_path: Path) -> None:
    first = ensure_secrets(tmp_path)
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {name: first[name].user for name in CREDENTIALS} == CREDENTIALS
    assert len({c.password for c in first.credentials.values()}) == len(CREDENTIALS)
    data = json.loads(path.read_text())
    data["admin_token"] = {"token": "kept"}
    del data["redis"]
    path.write_text(json.dumps(data))
    again = ensure_secrets(tmp_path)
    assert again["kafka"] == first["kafka"] and again["redis"] != first["redis"]
    assert json.loads(path.read_text())["admin_token"] == {"token": "kept"}
    assert load_secrets(tmp_path) == again


def test_a_mark_tells_whether_data_holds_a_credential(tmp_path: Path) -> None:
    mark = AppliedMark(tmp_path / "x.applied")
    old, new = Credential("greenai", "one"), Credential("greenai", "two")
    assert not mark.holds(old)
    mark.record(old)
    assert mark.holds(old) and not mark.holds(new)
    assert "one" not in mark.path.read_text()


def test_settings_take_the_passwords_of_the_stack_from_secrets_json(home: Path) -> None:
    secrets = load_secrets(home)
    assert secrets is not None
    settings = load_settings()
    app, owner = secrets["postgres_app"].password, secrets["postgres_owner"].password
    assert settings.database() == f"postgresql://greenai_app:{app}@127.0.0.1:5432/greenai"
    assert settings.database_owner() == f"postgresql://greenai:{owner}@127.0.0.1:5432/greenai"
    assert settings.redis() == f"redis://greenai:{secrets['redis'].password}@127.0.0.1:6379/0"
    assert settings.kafka() == "127.0.0.1:9092" and settings.bff_port == 8123
    assert settings.kafka_security() == KafkaSecurity(
        "SASL_PLAINTEXT", "SCRAM-SHA-256", "greenai", secrets["kafka"].password
    )
    assert app not in repr(settings) and secrets["kafka"].password not in repr(settings)


def test_variables_that_are_set_win(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://me:pw@db:5432/x")
    monkeypatch.setenv("GREENAI_DATABASE_OWNER_URL", "postgresql://boss:pw@db:5432/x")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    settings = load_settings()
    assert settings.database() == "postgresql://me:pw@db:5432/x"
    assert settings.database_owner() == "postgresql://boss:pw@db:5432/x"
    assert settings.kafka_security() is None


def test_the_stacks_kafka_credentials_are_only_for_the_stacks_kafka(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092")
    assert load_settings().kafka_security() is None
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    assert resolve_security(FROM_SETTINGS, "elsewhere:9092") is None
    assert resolve_security(FROM_SETTINGS, "127.0.0.1:9092") is not None


def test_without_a_stack_the_owner_is_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GREENAI_HOME", str(tmp_path))
    with pytest.raises(NotConfigured, match="GREENAI_DATABASE_OWNER_URL is not set"):
        load_settings().database_owner()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(NotConfigured, match="KAFKA_SASL_USERNAME is not set"):
        load_settings().kafka_security()


def test_server_urls_write_no_password_and_read_them_back(home: Path) -> None:
    secrets = load_secrets(home)
    assert secrets is not None
    urls = ServerUrls.from_public(json.loads((home / "stack.json").read_text()), secrets)
    public = json.dumps(urls.public())
    assert not any(c.password in public for c in secrets.credentials.values())
    assert not any(c.password in repr(urls) for c in secrets.credentials.values())
    assert urls.database_app_role == "greenai_app"
    env = urls.as_env()
    assert security_from_env(env) == urls.kafka_security
    assert env["GREENAI_DATABASE_OWNER_URL"] == urls.database_owner()
    given = ServerUrls("k:1", "postgresql://u:p@h/db", "redis://h/0")
    assert given.database_owner() == given.database_url and given.database_app_role is None
    assert security_from_env(given.as_env()) is None


def test_lock_down_makes_a_home_its_owners_only(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir(mode=0o755)
    (tmp_path / "logs" / "x.log").write_text("")
    os.chmod(tmp_path / "logs" / "x.log", 0o644)
    os.chmod(tmp_path, 0o755)
    lock_down(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "logs" / "x.log").stat().st_mode) == 0o600


def test_kafka_listeners_authenticate() -> None:
    client, controller = Credential("greenai", "c"), Credential("controller", "k")
    protocol, props = authentication(sasl=True, client=client, controller=controller)
    assert protocol == "SASL_PLAINTEXT"
    assert "listener.name.clients.sasl.enabled.mechanisms=SCRAM-SHA-256\n" in props
    assert "sasl.mechanism.controller.protocol=PLAIN" in props
    migrating = authentication(sasl=True, client=client, controller=controller, migrating=True)
    assert "mechanisms=SCRAM-SHA-256,PLAIN" in migrating[1]
    plaintext = authentication(sasl=False, client=client, controller=controller)
    assert plaintext[0] == "PLAINTEXT" and "controller.plain.sasl.jaas.config" in plaintext[1]


def test_trust_in_pg_hba_is_found(tmp_path: Path) -> None:
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("# trust\nlocal all all scram-sha-256\n")
    assert not hba_trusts(hba)
    hba.write_text("local   all   all   trust\n")
    assert hba_trusts(hba)
