"""The BFF's own settings (environment ``GREENAI_*``): sessions, sign-in, single sign-on,
the hosts it answers for, and the first accounts ``greenai up`` asks it to create."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from streams.recon import parse_duration


class BffConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GREENAI_", extra="ignore")

    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"]
    )
    sign_in_lock_after: int = 5  # failed sign-ins in a row that lock an account
    sign_in_lock_for: timedelta = timedelta(minutes=15)
    sign_in_per_ip_per_minute: int = 20

    # single sign-on (OpenID Connect); off unless an issuer is set
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid profile email"
    oidc_groups_claim: str = "groups"
    oidc_group_map: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    oidc_label: str = "Single sign-on"
    public_url: str | None = None  # how browsers reach the BFF (for the OIDC redirect)

    run_sink: bool = Field(
        default=True, alias="GREENAI_BFF_SINK", description="false: the sink is its own process"
    )
    audit_key: str | None = None  # keys the audit trail's HMAC chain
    secret_key: str | None = None  # signs the single sign-on flow's marker cookie

    # accounts greenai up asks for (created once, when no user of that name exists)
    bootstrap_admin_password: str | None = None
    bootstrap_admin_token: str | None = None
    bootstrap_demo_analyst_password: str | None = None

    @field_validator("session_idle", "session_absolute", "sign_in_lock_for", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return (
            [h.strip() for h in value.split(",") if h.strip()] if isinstance(value, str) else value
        )

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
