"""The ``connector:`` block: each type validates, secrets come only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streams.ingest.connectors import (
    DirectoryConfig,
    FtpConfig,
    HttpConfig,
    MissingSecret,
    S3Config,
    SqlConfig,
    parse_connector,
)
from streams.ingest.ftp import FtpDirectory
from streams.ingest.http_api import HttpSource
from streams.ingest.s3 import S3Objects
from streams.ingest.sql import SqlSource
from streams.recon import load_recon


def block(text: str) -> dict[str, object]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_every_type_parses_with_durations_in_seconds() -> None:
    directory = parse_connector(block("{type: directory, path: /drops, settle: 500ms}"))
    assert isinstance(directory, DirectoryConfig) and directory.settle == 0.5
    sql = parse_connector(
        block("{type: sql, dsn: 'host=db dbname=mart', table: t, watermark: updated_at}")
    )
    assert isinstance(sql, SqlConfig) and sql.interval == 10.0
    s3 = parse_connector(block("{type: s3, bucket: b, prefix: in/, interval: 1m}"))
    assert isinstance(s3, S3Config) and s3.interval == 60.0
    ftp = parse_connector(block("{type: ftp, host: ftp.example, done_marker: true}"))
    assert isinstance(ftp, FtpConfig) and ftp.port == 21
    http = parse_connector(
        block("{type: http, url: 'https://x/api', pagination: {type: page, size: 50}}")
    )
    assert isinstance(http, HttpConfig) and http.pagination.type == "page"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{type: ftp, host: h, password: hunter2}", "'password' must not be written in the recon"),
        ("{type: s3, bucket: b, secret_access_key: x}", "secret_access_key_env instead"),
        (
            "{type: sql, dsn: 'postgresql://u:hunter2@db/mart', table: t, watermark: w}",
            "dsn must not hold a password",
        ),
        ("{type: http, url: u, headers: {Authorization: Bearer x}}", "put it in headers_env"),
        ("{type: http, url: u, params: {api_key: x}}", "put it in params_env"),
    ],
)
def test_inline_secrets_are_refused_without_echoing_them(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_connector(block(text))
    assert "hunter2" not in str(caught.value) and "Bearer x" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "no connector configured"),
        ("{type: kafka}", "connector.type: use one of directory, sql, s3, ftp, http"),
        ("{type: sql, dsn: d, watermark: w}", "give exactly one of query and table"),
        ("{type: s3}", "connector.bucket: Field required"),
        ("{type: directory, path: /x, settle: soon}", "connector.settle"),
    ],
)
def test_bad_blocks_get_a_one_line_reason(text: str | None, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_connector(block(text) if text else None)
    assert "\n" not in str(caught.value)


def test_secrets_are_read_from_the_named_variables_when_built() -> None:
    env = {"MART_DSN": "host=db dbname=mart", "MART_PW": "pw-1", "TOKEN": "Bearer t-1"}
    sql = parse_connector(
        block(
            "{type: sql, dsn_env: MART_DSN, password_env: MART_PW, query: 'SELECT 1', watermark: w}"
        )
    ).build(env)
    assert isinstance(sql, SqlSource) and "password=pw-1" in sql._conninfo
    http = parse_connector(
        block("{type: http, url: 'https://x', headers_env: {Authorization: TOKEN}}")
    ).build(env)
    assert isinstance(http, HttpSource) and http._headers["Authorization"] == "Bearer t-1"
    s3 = parse_connector(
        block("{type: s3, bucket: b, access_key_id_env: MART_PW, secret_access_key_env: TOKEN}")
    ).build(env)
    assert isinstance(s3, S3Objects)
    assert s3._credentials == {"aws_access_key_id": "pw-1", "aws_secret_access_key": "Bearer t-1"}
    ftp = parse_connector(block("{type: ftp, host: h, password_env: MART_PW}")).build(env)
    assert isinstance(ftp, FtpDirectory) and ftp._password == "pw-1"


def test_a_missing_secret_variable_names_the_variable_not_a_value() -> None:
    config = parse_connector(block("{type: ftp, host: h, password_env: FTP_PW}"))
    with pytest.raises(MissingSecret, match=r"^environment variable FTP_PW \(password_env\)"):
        config.build({})


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "connectors"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_documented_examples_are_valid_recons_with_valid_connectors(path: Path) -> None:
    recon = load_recon(path)
    blocks = [s.connector for s in recon.sources.values() if s.connector]
    assert len(blocks) == 1
    parse_connector(blocks[0])
