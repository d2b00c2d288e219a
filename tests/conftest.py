"""Shared fixtures: one set of real servers for the whole test session (integration, e2e)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenai.localstack import LocalServers, ServerUrls
from tests.integration.pipeline import Pipeline, start_pipeline


@pytest.fixture(scope="session")
def local_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServers]:
    """Kafka, PostgreSQL and Redis: those named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL /
    REDIS_URL are used as they are, the others run under a temporary GREENAI_HOME, locked
    as ``greenai up`` locks them (PostgreSQL and Redis with passwords) except that the
    broker's client port is PLAINTEXT: several test modules still build confluent-kafka
    clients from a bare bootstrap address. SASL/SCRAM is tested on stacks of their own
    (tests/integration/test_localstack.py, test_up.py, test_lockdown.py)."""
    home = Path(os.environ.get("GREENAI_TEST_HOME") or tmp_path_factory.mktemp("greenai-home"))
    stack = LocalServers.from_environ(home, kafka_sasl=False)
    with stack:
        yield stack


@pytest.fixture(scope="session")
def servers(local_servers: LocalServers) -> ServerUrls:
    assert local_servers.urls is not None
    return local_servers.urls


@pytest.fixture(scope="module")
def pipeline(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The diff and attribution workers and the BFF, isolated for one test module."""
    home = tmp_path_factory.mktemp("pipeline")
    running = start_pipeline(servers, home, "t")
    try:
        yield running
    finally:
        running.group.stop_all()


@pytest.fixture(scope="module", autouse=True)
def _close_sandboxes() -> Iterator[None]:
    """Stop the BFF of every connector sandbox a module made, when the module ends."""
    yield
    from tests.integration.connector_servers import OPEN

    for box in list(OPEN):
        box.close()
