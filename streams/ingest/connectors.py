"""The ``connector:`` block of a source in the recon YAML, validated, and the connector it
builds.

Secrets never sit in the YAML: a setting named ``*_env`` holds the *name* of an environment
variable, read when the connector is built. Keys that look like inline secrets (``password``,
``token``, ``secret_access_key`` ...) are rejected, as is a SQL ``dsn`` carrying a password.
Resolved secrets are passed straight to the client libraries and appear in no log, summary,
metric or error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from streams.ingest.context import Connector
from streams.recon import parse_duration

Seconds = Annotated[float, BeforeValidator(lambda v: parse_duration(v).total_seconds())]
INLINE_SECRETS = {
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key_id",
    "secret_access_key",
    "session_token",
}


class MissingSecret(ValueError):
    pass


def secret(variable: str | None, what: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of the environment variable named ``variable`` (empty when none is named)."""
    if not variable:
        return ""
    env = os.environ if environ is None else environ
    value = env.get(variable)
    if value is None:
        raise MissingSecret(f"environment variable {variable} ({what}) is not set")
    return value


def _cron(value: str | None) -> str | None:
    if value is not None and not croniter.is_valid(value):
        raise ValueError(f"not a cron expression: {value!r} (e.g. '*/15 7-19 * * 1-5')")
    return value


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval: Seconds = 10.0
    schedule: Annotated[str | None, AfterValidator(_cron)] = Field(
        default=None,
        description="a cron expression in the recon's time zone: the scheduler runs one pass "
        "of the connector (`greenai ingest run --once`) at each",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            inline = sorted(k for k in data if str(k).lower() in INLINE_SECRETS)
            if inline:
                raise ValueError(
                    f"{inline[0]!r} must not be written in the recon: name an environment "
                    f"variable with {inline[0]}_env instead"
                )
        return data


class DirectoryConfig(_Config):
    type: Literal["directory"]
    path: Path
    pattern: str = "*"
    done_marker: bool = False
    settle: Seconds = 2.0
    interval: Seconds = 5.0

    def build(self, environ: Mapping[str, str] | None = None) -> Connector:
        from streams.ingest.watch import DirectoryWatch

        return DirectoryWatch(
            self.path, pattern=self.pattern, done_marker=self.done_marker, settle=self.settle
        )


class SqlConfig(_Config):
    type: Literal["sql"]
    dsn: str | None = Field(None, description="libpq connection string, without a password")
    dsn_env: str | None = None
    password_env: str | None = None
    query: str | None = None
    table: str | None = None
    watermark: str
    batch_rows: int = Field(5000, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> SqlConfig:
        if (self.dsn is None) == (self.dsn_env is None):
            raise ValueError("give exactly one of dsn and dsn_env")
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of query and table")
        if self.dsn is not None:
            from psycopg.conninfo import conninfo_to_dict

            if conninfo_to_dict(self.dsn).get("password"):
                raise ValueError("dsn must not hold a password: use password_env (or dsn_env)")
        return self

    def build(self, environ: Mapping[str, str] | None = None) -> Connector:
        from psycopg.conninfo import make_conninfo

        from streams.ingest.sql import SqlSource

        dsn = self.dsn if self.dsn is not None else secret(self.dsn_env, "dsn_env", environ)
        password = secret(self.password_env, "password_env", environ)
        conninfo = make_conninfo(dsn, password=password) if password else dsn
        return SqlSource(
            conninfo,
            query=self.query,
            table=self.table,
            watermark=self.watermark,
            batch_rows=self.batch_rows,
        )


class S3Config(_Config):
    type: Literal["s3"]
    bucket: str
    prefix: str = ""
    pattern: str = "*"
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id_env: str | None = None
    secret_access_key_env: str | None = None
    session_token_env: str | None = None
    interval: Seconds = 30.0

    def build(self, environ: Mapping[str, str] | None = None) -> Connector:
        from streams.ingest.s3 import S3Objects

        credentials = {
            arg: secret(var, f"{arg}_env", environ)
            for arg, var in (
                ("aws_access_key_id", self.access_key_id_env),
                ("aws_secret_access_key", self.secret_access_key_env),
                ("aws_session_token", self.session_token_env),
            )
            if var
        }  # none named: boto3's own chain (AWS_* variables, profile, instance role)
        return S3Objects(
            self.bucket,
            prefix=self.prefix,
            pattern=self.pattern,
            endpoint_url=self.endpoint_url,
            region=self.region,
            credentials=credentials,
        )


class FtpConfig(_Config):
    type: Literal["ftp"]
    host: str
    port: int = 21
    user: str = "anonymous"
    password_env: str | None = None
    directory: str = "/"
    pattern: str = "*"
    done_marker: bool = False
    settle: Seconds = 2.0
    tls: bool = False
    timeout: Seconds = 30.0
    interval: Seconds = 30.0

    def build(self, environ: Mapping[str, str] | None = None) -> Connector:
        from streams.ingest.ftp import FtpDirectory

        return FtpDirectory(
            self.host,
            port=self.port,
            user=self.user,
            password=secret(self.password_env, "password_env", environ),
            directory=self.directory,
            pattern=self.pattern,
            done_marker=self.done_marker,
            settle=self.settle,
            tls=self.tls,
            timeout=self.timeout,
        )


class CursorPages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["cursor"]
    cursor_param: str = "cursor"
    next_cursor: str = "next_cursor"


class NumberedPages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["page"]
    page_param: str = "page"
    size_param: str | None = None
    size: int = Field(100, gt=0)
    first: int = 1


class HttpConfig(_Config):
    type: Literal["http"]
    url: str
    items: str = ""
    pagination: Annotated[CursorPages | NumberedPages, Field(discriminator="type")] = CursorPages(
        type="cursor"
    )
    params: dict[str, str] = Field(default_factory=dict)
    params_env: dict[str, str] = Field(
        default_factory=dict, description="query parameter -> environment variable with its value"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="header name -> environment variable with its value"
    )
    timeout: Seconds = 10.0
    max_retries: int = Field(5, ge=0)
    backoff: Seconds = 0.5
    max_backoff: Seconds = 30.0
    interval: Seconds = 30.0

    @model_validator(mode="after")
    def _no_secret_headers(self) -> HttpConfig:
        for header in self.headers:
            if header.lower() in {"authorization", "proxy-authorization", "x-api-key", "cookie"}:
                raise ValueError(f"header {header!r} is a secret: put it in headers_env")
        for param in self.params:
            if param.lower() in INLINE_SECRETS | {"key", "access_token", "apitoken"}:
                raise ValueError(f"query parameter {param!r} is a secret: put it in params_env")
        return self

    def build(self, environ: Mapping[str, str] | None = None) -> Connector:
        from streams.ingest.http_api import HttpSource, RetryPolicy

        headers = dict(self.headers)
        for header, variable in self.headers_env.items():
            headers[header] = secret(variable, f"headers_env.{header}", environ)
        params = dict(self.params)
        for param, variable in self.params_env.items():
            params[param] = secret(variable, f"params_env.{param}", environ)
        page = self.pagination
        common: dict[str, Any] = {
            "items": self.items,
            "params": params,
            "headers": headers,
            "timeout": self.timeout,
            "retry": RetryPolicy(self.max_retries, self.backoff, self.max_backoff),
        }
        if isinstance(page, CursorPages):
            return HttpSource(
                self.url,
                pagination="cursor",
                cursor_param=page.cursor_param,
                next_cursor=page.next_cursor,
                **common,
            )
        return HttpSource(
            self.url,
            pagination="page",
            page_param=page.page_param,
            size_param=page.size_param,
            page_size=page.size,
            first_page=page.first,
            **common,
        )


ConnectorConfig = Annotated[
    DirectoryConfig | SqlConfig | S3Config | FtpConfig | HttpConfig, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[ConnectorConfig] = TypeAdapter(ConnectorConfig)
TYPES = ("directory", "sql", "s3", "ftp", "http")


def parse_connector(block: Mapping[str, Any] | None, where: str = "connector") -> ConnectorConfig:
    """Validate a ``connector:`` block; ``ValueError`` with a one-line reason otherwise."""
    if not block:
        raise ValueError(f"{where}: no connector configured (add a connector: block)")
    if block.get("type") not in TYPES:
        raise ValueError(f"{where}.type: use one of {', '.join(TYPES)} (got {block.get('type')!r})")
    try:
        return _ADAPTER.validate_python(dict(block))
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors(include_input=False)[0]
            loc = ".".join(str(p) for p in first["loc"][1:])
            raise ValueError(f"{where}{'.' + loc if loc else ''}: {first['msg']}") from None
        raise
