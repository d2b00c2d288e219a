"""A running greenai pipeline for integration tests, isolated by topic prefix, consumer
groups (they derive from the prefix) and a PostgreSQL schema, on the session's servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from greenai.localstack import ProcessGroup, ServerUrls
from greenai.localstack.ports import free_port
from streams.database import migrate
from streams.topics import ensure_topics

ROOT = Path(__file__).resolve().parents[2]
GREENAI = [sys.executable, "-m", "greenai"]


@dataclass
class Pipeline:
    env: dict[str, str]
    bff_url: str
    group: ProcessGroup
    home: Path

    def cli(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*GREENAI, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        if check and done.returncode != 0:
            exited = self.group.first_exit(timeout=0)
            dead = f"; {exited[0]} had exited with {exited[1]}" if exited else ""
            raise AssertionError(f"greenai {' '.join(args)} failed: {done.stderr.strip()}{dead}")
        return done

    def breaks(self, *args: str) -> list[dict[str, Any]]:
        return json.loads(self.cli("breaks", "--json", "--status", "all", *args).stdout)

    def api(self, path: str) -> Any:
        response = httpx.get(f"{self.bff_url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()


def isolated_env(servers: ServerUrls, home: Path, name: str) -> dict[str, str]:
    tag = f"{name}_{uuid.uuid4().hex[:8]}"
    database_url = f"{servers.database_url}?options=-csearch_path%3D{tag}"
    return {
        **os.environ,
        **servers.as_env(),
        "DATABASE_URL": database_url,
        "GREENAI_HOME": str(home),
        "GREENAI_TOPIC_PREFIX": tag,
        "GREENAI_BFF_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


def start_pipeline(servers: ServerUrls, home: Path, name: str) -> Pipeline:
    env = isolated_env(servers, home, name)
    migrate(env["DATABASE_URL"])
    ensure_topics(servers.kafka_bootstrap_servers, env["GREENAI_TOPIC_PREFIX"])
    group = ProcessGroup(home / "logs")
    for child, module in (
        ("diff", "streams.diff"),
        ("attribution", "streams.attribution"),
        ("bff", "bff"),
    ):
        group.start(child, [sys.executable, "-m", module], env)
    url = f"http://127.0.0.1:{env['GREENAI_BFF_PORT']}"
    deadline = time.monotonic() + 90
    while True:
        exited = group.first_exit(timeout=0)
        if exited:
            log = (home / "logs" / f"{exited[0]}.log").read_text()[-3000:]
            raise AssertionError(f"{exited[0]} exited with {exited[1]}:\n{log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the BFF did not come up")
        time.sleep(0.3)
    return Pipeline(env, url, group, home)
