"""The attribution worker's own knobs (environment ``GREENAI_ATTRIBUTION_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AttributionConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GREENAI_ATTRIBUTION_", extra="ignore")

    checkpoint_seconds: float = 5.0  # how often a changed model is checkpointed
    batch: int = 500  # breaks attributed, recorded and published together
    batch_wait: float = 0.05  # seconds to wait for a batch to fill
