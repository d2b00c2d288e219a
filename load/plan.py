"""What a load run does (``GREENAI_LOAD_*``) and the stack it runs against."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class Plan:
    """What a run does (environment ``GREENAI_LOAD_*``)."""

    users: int = 200
    sse: int = 500
    seconds: float = 60.0
    spawn_rate: float = 20.0
    sse_per_second: float = 50.0
    trades: int = 20_000
    think: str = "1-3"
    profile: bool = False  # py-spy the BFF over the measured window
    bff_workers: int = 0  # 0: the stack's BFF (one uvicorn process); N: gunicorn, N workers

    @classmethod
    def from_env(cls) -> Plan:
        return cls(
            users=_env_int("GREENAI_LOAD_USERS", cls.users),
            sse=_env_int("GREENAI_LOAD_SSE", cls.sse),
            seconds=_env_float("GREENAI_LOAD_SECONDS", cls.seconds),
            spawn_rate=_env_float("GREENAI_LOAD_SPAWN_RATE", cls.spawn_rate),
            sse_per_second=_env_float("GREENAI_LOAD_SSE_RATE", cls.sse_per_second),
            trades=_env_int("GREENAI_LOAD_TRADES", cls.trades),
            think=os.environ.get("GREENAI_LOAD_THINK", cls.think),
            profile=os.environ.get("GREENAI_LOAD_PROFILE", "") not in ("", "0"),
            bff_workers=_env_int("GREENAI_LOAD_BFF_WORKERS", cls.bff_workers),
        )

    @property
    def ramp(self) -> float:
        return self.users / self.spawn_rate if self.spawn_rate > 0 else 0.0


@dataclass(frozen=True)
class Target:
    """A running stack: the BFF, an admin's API token, the database (application role) and
    the processes whose CPU to report (their descendants count with them)."""

    url: str
    admin_token: str
    database_url: str
    roots: tuple[int, ...] = ()
    bff_pid: int | None = None  # the BFF to profile (None: the roots' ``python -m bff``)
