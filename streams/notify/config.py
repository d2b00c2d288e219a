"""The notifier's knobs (environment ``GREENAI_NOTIFY_*``) and its SMTP relay
(``GREENAI_SMTP_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifyConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GREENAI_NOTIFY_", extra="ignore")

    attempts: int = Field(default=6, ge=1)  # tries per subscriber and alert before DEAD
    backoff_seconds: float = Field(default=1.0, ge=0)  # the wait after the first failure
    backoff_max_seconds: float = Field(default=60.0, ge=0)  # the longest wait between tries
    timeout_seconds: float = Field(default=10.0, gt=0)  # one webhook call or SMTP session
    batch: int = Field(default=200, ge=1)  # alerts read from Kafka at a time
    surge_threshold: int = Field(default=100, ge=1)  # a recon's dead letters in a window...
    surge_window_seconds: float = Field(default=300.0, gt=0)  # ... that make a surge alert


class SmtpConfig(BaseSettings):
    """Where e-mail subscriptions are sent from. Without a host, e-mail deliveries fail (and
    end DEAD after the last try) with the reason that no SMTP relay is configured."""

    model_config = SettingsConfigDict(env_prefix="GREENAI_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 25
    sender: str = Field(default="greenai@localhost", alias="GREENAI_SMTP_FROM")
    user: str | None = None
    password: str | None = Field(default=None, repr=False)
    starttls: bool = False
