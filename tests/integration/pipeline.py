"""A running greenai pipeline for integration tests, isolated by topic prefix, consumer
groups (they derive from the prefix) and a PostgreSQL schema, on the session's servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from greenai.localstack import ProcessGroup, ServerUrls
from greenai.localstack.accounts import ensure_accounts
from greenai.localstack.ports import free_port
from greenai.up import PROCESSES
from streams.database import load_recon, migrate
from streams.ingest.files import RawRow
from streams.ingest.publisher import SourcePublisher
from streams.ingest.synthetic import TradePair
from streams.kafka import SafeProducer
from streams.kafka_security import KafkaSecurity, security_from_env
from streams.topics import Topics, ensure_topics
from streams.urls import with_schema

ROOT = Path(__file__).resolve().parents[2]
GREENAI = [sys.executable, "-m", "greenai"]


@dataclass
class Pipeline:
    env: dict[str, str]
    bff_url: str
    group: ProcessGroup
    home: Path
    children: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

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

    @property
    def kafka_security(self) -> KafkaSecurity | None:
        """How the pipeline's Kafka clients authenticate (None: PLAINTEXT)."""
        return security_from_env(self.env)

    @property
    def admin_token(self) -> str:
        """The API token of this pipeline's admin (what its command line uses)."""
        return ensure_accounts(self.home).token

    @property
    def admin_password(self) -> str:
        return ensure_accounts(self.home).admin_password

    @property
    def owner_url(self) -> str:
        """The database as its owner (for tests that play an insider)."""
        return self.env["GREENAI_DATABASE_OWNER_URL"]

    def http(self) -> httpx.Client:
        """An HTTP client of the BFF, signed in as the admin (with its API token)."""
        return httpx.Client(
            base_url=self.bff_url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )

    def api(self, path: str) -> Any:
        with self.http() as client:
            response = client.get(path)
        response.raise_for_status()
        return response.json()

    def start(self, name: str, module: str, **extra_env: str) -> None:
        argv, env = [sys.executable, "-m", module], {**self.env, **extra_env}
        self.children[name] = (argv, env)
        self.group.start(name, argv, env)

    def kill(self, name: str) -> None:
        """SIGKILL a child (no clean shutdown at all) and start it again."""
        os.kill(self.group.pids[name], signal.SIGKILL)
        exited = self.group.first_exit(timeout=15)
        assert exited and exited[0] == name, exited
        argv, env = self.children[name]
        self.group.start(name, argv, env)

    def stop(self, name: str) -> None:
        """SIGTERM a child (a clean shutdown) and wait until it exited; it stays stopped."""
        os.kill(self.group.pids[name], signal.SIGTERM)
        exited = self.group.first_exit(timeout=30)
        assert exited == (name, 0), exited

    def publish(self, recon: str, pairs: Iterable[TradePair], per_second: float = 0) -> int:
        """Publish generated trades, both sources of a trade one after the other."""
        definition = load_recon(self.env["DATABASE_URL"], recon)
        producer = SafeProducer(self.env["KAFKA_BOOTSTRAP_SERVERS"], security=self.kafka_security)
        topics = Topics(self.env["GREENAI_TOPIC_PREFIX"])
        ledger = SourcePublisher(producer, topics, definition, "ledger")
        custody = SourcePublisher(producer, topics, definition, "custody")
        started = time.monotonic()
        for n, pair in enumerate(pairs, start=1):
            for row in pair.ledger:
                ledger.publish(RawRow(f"ledger:{n}", row))
            for row in pair.custody:
                custody.publish(RawRow(f"custody:{n}", row))
            if per_second and n % 50 == 0:
                producer.flush()
                time.sleep(max(0.0, started + n / per_second - time.monotonic()))
        producer.flush()
        return ledger.counts.published + custody.counts.published

    def publish_lagged(
        self, recon: str, pairs: list[TradePair], per_second: float, lag: float
    ) -> None:
        """Publish the ledger's rows at ``per_second`` trades a second and the custodian's
        rows of the same trades ``lag`` seconds behind them, at the same pace."""
        definition = load_recon(self.env["DATABASE_URL"], recon)
        topics = Topics(self.env["GREENAI_TOPIC_PREFIX"])

        def side(source: str, delay: float) -> None:
            producer = SafeProducer(
                self.env["KAFKA_BOOTSTRAP_SERVERS"], {"linger.ms": 5}, security=self.kafka_security
            )
            publisher = SourcePublisher(producer, topics, definition, source)
            start = begin + delay
            time.sleep(max(0.0, start - time.monotonic()))
            for n, pair in enumerate(pairs, start=1):
                for row in pair.ledger if source == "ledger" else pair.custody:
                    publisher.publish(RawRow(f"{source}:{n}", row))
                if n % 20 == 0:
                    producer.flush()
                    time.sleep(max(0.0, start + n / per_second - time.monotonic()))
            producer.flush()

        begin = time.monotonic()
        threads = [
            threading.Thread(target=side, args=("ledger", 0.0)),
            threading.Thread(target=side, args=("custody", lag)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def isolated_env(servers: ServerUrls, home: Path, name: str) -> dict[str, str]:
    """The environment of a pipeline isolated by topic prefix and PostgreSQL schema (both
    ``name`` plus a random tag), with that schema migrated by the owner role: the children
    get the application role's URL (and the owner's, scoped the same way, for the commands
    that would find it in the local stack's secrets.json), the Kafka security, Redis."""
    tag = f"{name}_{uuid.uuid4().hex[:8]}"
    owner_url = with_schema(servers.database_owner(), tag)
    migrate(owner_url, app_role=servers.database_app_role)
    return {
        **os.environ,
        **servers.as_env(),
        "DATABASE_URL": with_schema(servers.database_url, tag),
        "GREENAI_DATABASE_OWNER_URL": owner_url,
        "GREENAI_HOME": str(home),
        "GREENAI_TOPIC_PREFIX": tag,
        "GREENAI_BFF_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


def start_pipeline(
    servers: ServerUrls,
    home: Path,
    name: str,
    *,
    diff_workers: int = 1,
    diff_env: dict[str, str] | None = None,
    bff_env: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Pipeline:
    """A pipeline of its own (topic prefix, schema, home): diff and attribution workers, the
    sink and the BFF; ``env`` adds to every child's (and the command line's) environment."""
    env = isolated_env(servers, home, name) | (env or {})
    ensure_topics(
        servers.kafka_bootstrap_servers,
        env["GREENAI_TOPIC_PREFIX"],
        security=servers.kafka_security,
    )
    pipeline = Pipeline(
        env, f"http://127.0.0.1:{env['GREENAI_BFF_PORT']}", ProcessGroup(home / "logs"), home
    )
    for n in range(1, diff_workers + 1):
        name_n = "diff" if diff_workers == 1 else f"diff-{n}"
        pipeline.start(name_n, PROCESSES["diff"], GREENAI_WORKER_ID=str(n), **(diff_env or {}))
    pipeline.start("attribution", PROCESSES["attribution"])
    accounts = ensure_accounts(home)  # the CLI finds its token there, as next to `greenai up`
    pipeline.start("sink", PROCESSES["sink"])  # its own process, as greenai up runs it
    bff = accounts.bff_env(demo=False) | {"GREENAI_BFF_SINK": "false"} | (bff_env or {})
    pipeline.start("bff", PROCESSES["bff"], **bff)
    wait_for_bff(pipeline)
    return pipeline


def wait_for_bff(pipeline: Pipeline, timeout: float = 90) -> None:
    """Until the BFF answers healthy (an AssertionError with the log of a child that died)."""
    deadline = time.monotonic() + timeout
    while True:
        exited = pipeline.group.first_exit(timeout=0)
        if exited:
            log = (pipeline.home / "logs" / f"{exited[0]}.log").read_text()[-3000:]
            raise AssertionError(f"{exited[0]} exited with {exited[1]}:\n{log}")
        try:
            if httpx.get(f"{pipeline.bff_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the BFF did not come up")
        time.sleep(0.3)


def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """``check()``'s first truthy answer, asked every quarter second; AssertionError naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timeout after {timeout:.0f}s: {what}")
