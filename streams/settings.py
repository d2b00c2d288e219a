"""Settings from the environment, falling back to the ports the local stack chose.

``greenai up`` writes ``$GREENAI_HOME/stack.json``; every other command and worker reads it,
so several stacks can run side by side, each found through its own ``GREENAI_HOME``.
Variables that are set always win.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

STACK_FILE = "stack.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    greenai_home: Path = Field(default_factory=lambda: Path.cwd() / ".greenai")
    kafka_bootstrap_servers: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    bff_host: str = Field("127.0.0.1", alias="GREENAI_BFF_HOST")
    bff_port: int = Field(8000, alias="GREENAI_BFF_PORT")
    topic_prefix: str = Field("greenai", alias="GREENAI_TOPIC_PREFIX")
    worker_id: str = Field("1", alias="GREENAI_WORKER_ID")
    log_level: str = Field("INFO", alias="GREENAI_LOG_LEVEL")

    @property
    def stack_file(self) -> Path:
        return self.greenai_home / STACK_FILE

    @property
    def logs_dir(self) -> Path:
        return self.greenai_home / "logs"

    @property
    def state_dir(self) -> Path:
        return self.greenai_home / "state"

    @property
    def bff_url(self) -> str:
        return f"http://{self.bff_host}:{self.bff_port}"

    def kafka(self) -> str:
        return _required(self.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")

    def database(self) -> str:
        return _required(self.database_url, "DATABASE_URL")

    def redis(self) -> str:
        return _required(self.redis_url, "REDIS_URL")


class NotConfigured(RuntimeError):
    pass


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise NotConfigured(
            f"{variable} is not set and no local stack is running here "
            "(start one with `greenai up` or set the variable)"
        )
    return value


def load_settings(**overrides: Any) -> Settings:
    """Environment first, then the running local stack's ``stack.json``."""
    settings = Settings(**overrides)
    stack = settings.stack_file
    if stack.exists():
        chosen = json.loads(stack.read_text())
        for name in ("kafka_bootstrap_servers", "database_url", "redis_url"):
            if getattr(settings, name) is None and chosen.get(name):
                setattr(settings, name, chosen[name])
        if "bff_port" in chosen and "GREENAI_BFF_PORT" not in os.environ:
            settings.bff_port = chosen["bff_port"]
    return settings
