"""The deployment's own entry points against the real servers: the init step
(``python -m streams.migrate --topics``) and the BFF under gunicorn with
bff/gunicorn_conf.py, as the Helm chart and docker-compose.yml run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from streams.urls import with_schema

pytestmark = pytest.mark.integration


def deployment_env(servers: ServerUrls, home: Path) -> dict[str, str]:
    """A fresh schema and topic prefix, the owner's URL for the init step."""
    tag = f"deploy_{uuid.uuid4().hex[:8]}"
    return {
        **os.environ,
        **servers.as_env(),
        "DATABASE_URL": with_schema(servers.database_url, tag),
        "GREENAI_DATABASE_OWNER_URL": with_schema(servers.database_owner(), tag),
        "GREENAI_HOME": str(home),
        "GREENAI_TOPIC_PREFIX": tag,
        "GREENAI_PARTITIONS": "2",
    }


def init(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "streams.migrate", "--topics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_init_migrates_and_makes_the_topics_once(servers: ServerUrls, tmp_path: Path) -> None:
    env = deployment_env(servers, tmp_path)
    migrations, topics = init(env)
    assert migrations.startswith("migrations applied: 0")
    assert f"{env['GREENAI_TOPIC_PREFIX']}.records" in topics
    assert init(env) == [
        "migrations applied: none (all applied)",
        "topics created: none (all exist)",
    ]


def test_init_fails_with_one_line_without_the_owner(servers: ServerUrls, tmp_path: Path) -> None:
    env = deployment_env(servers, tmp_path)
    del env["GREENAI_DATABASE_OWNER_URL"]
    done = subprocess.run(
        [sys.executable, "-m", "streams.migrate"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith("greenai migrate: GREENAI_DATABASE_OWNER_URL is not set")
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_bff_under_gunicorn_answers_and_stops_gracefully(
    servers: ServerUrls, tmp_path: Path
) -> None:
    env = deployment_env(servers, tmp_path)
    init(env)
    port = free_port()
    env |= {
        "GREENAI_BFF_HOST": "127.0.0.1",
        "GREENAI_BFF_PORT": str(port),
        "GREENAI_WEB_CONCURRENCY": "2",
        "GREENAI_GRACEFUL_TIMEOUT": "10",
        "GREENAI_DATABASE_OWNER_URL": "",  # as in the chart: the BFF runs as the application
    }
    log = (tmp_path / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:bff.gunicorn_conf", "bff.asgi:app"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert gunicorn.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                health = httpx.get(f"{url}/healthz", timeout=3)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        assert "sink" not in health.json()  # the sink is a process of its own
        assert httpx.get(f"{url}/livez", timeout=3).json() == {"status": "ok"}
        gunicorn.send_signal(signal.SIGTERM)
        assert gunicorn.wait(timeout=30) == 0
    finally:
        if gunicorn.poll() is None:
            gunicorn.kill()
            gunicorn.wait()
        log.close()
    output = (tmp_path / "gunicorn.log").read_text()
    assert "Using worker: uvicorn_worker.UvicornWorker" in output, output
