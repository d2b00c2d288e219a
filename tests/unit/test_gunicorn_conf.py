"""bff/gunicorn_conf.py: the settings gunicorn gets, read through gunicorn's own Config (so
a setting it would refuse, or a worker class that does not import, fails here)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest
from gunicorn.config import Config


@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    """The module sets PROMETHEUS_MULTIPROC_DIR for gunicorn's workers: left set, every process
    the later tests start would expose that shared directory's metrics instead of its own."""
    saved = dict(os.environ)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[ModuleType, Config]:
    for name in ("GREENAI_BFF_HOST", "GREENAI_BFF_PORT", "GREENAI_WEB_CONCURRENCY",
                 "GREENAI_GRACEFUL_TIMEOUT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    module = importlib.reload(importlib.import_module("bff.gunicorn_conf"))
    config = Config()
    for name, value in vars(module).items():
        if name in config.settings:
            config.set(name, value)
    return module, config


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _, config = load(
        monkeypatch,
        GREENAI_BFF_HOST="0.0.0.0",
        GREENAI_BFF_PORT="8123",
        GREENAI_WEB_CONCURRENCY="3",
        GREENAI_GRACEFUL_TIMEOUT="17",
    )
    assert config.bind == ["0.0.0.0:8123"]
    assert config.workers == 3
    assert config.graceful_timeout == 17
    assert config.worker_class.__module__ == "uvicorn_worker._workers"
    assert config.worker_class.__name__ == "UvicornWorker"
    assert config.preload_app is False


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    _, config = load(monkeypatch)
    assert config.bind == ["127.0.0.1:8000"]  # the BFF's own default address
    assert config.workers == len(os.sched_getaffinity(0))
    assert config.graceful_timeout == 30


def test_the_workers_share_one_metrics_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    load(monkeypatch)
    assert os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def test_an_ipv6_address_is_bracketed(monkeypatch: pytest.MonkeyPatch) -> None:
    _, config = load(monkeypatch, GREENAI_BFF_HOST="::", GREENAI_BFF_PORT="9000")
    assert config.bind == ["[::]:9000"]
