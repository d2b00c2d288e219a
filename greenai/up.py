"""``greenai up``: the whole system on one machine, in the foreground.

Starts (or connects to) Kafka, PostgreSQL and Redis, applies migrations and topics, then
runs the diff worker, the attribution worker and the BFF as child processes (restarting a
child that dies, with backoff: see ``greenai.localstack.supervisor``), plus the demo feed
with ``--demo``. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

from greenai.localstack import LocalServers, ProcessGroup
from greenai.localstack.ports import free_port
from greenai.localstack.supervisor import RestartPolicy, exit_reason
from streams.database import migrate, save_recon
from streams.recon import load_recon
from streams.settings import Settings
from streams.topics import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
DEMO_RECON = ROOT / "examples" / "demo" / "trades.yaml"


# The processes of the system, by name: each runs as ``python -m MODULE``.
PROCESSES = {"diff": "streams.diff", "attribution": "streams.attribution", "bff": "bff"}
DEMO_FEED = "streams.ingest.demo"


def _children(demo: bool) -> dict[str, list[str]]:
    modules = PROCESSES | ({"demo-feed": DEMO_FEED} if demo else {})
    return {name: [sys.executable, "-m", module] for name, module in modules.items()}


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_for_bff(url: str, group: ProcessGroup, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = group.first_exit(timeout=0)
        if exited:
            raise RuntimeError(f"{exited[0]} exited with code {exited[1]} while starting")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the BFF did not answer on {url} within {timeout:.0f}s")


def run_stack(settings: Settings, *, demo: bool) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    home = settings.greenai_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    group = ProcessGroup(settings.logs_dir)
    try:
        with LocalServers(
            home,
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
            database_url=settings.database_url,
            redis_url=settings.redis_url,
        ) as urls:
            migrate(urls.database_url)
            ensure_topics(urls.kafka_bootstrap_servers, settings.topic_prefix)
            if demo:
                save_recon(urls.database_url, load_recon(DEMO_RECON))
            bff_port = settings.bff_port or free_port()
            env = {
                **os.environ,
                "GREENAI_HOME": str(home),
                "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
                "DATABASE_URL": urls.database_url,
                "REDIS_URL": urls.redis_url,
                "GREENAI_BFF_PORT": str(bff_port),
                "GREENAI_TOPIC_PREFIX": settings.topic_prefix,
            }
            settings.stack_file.write_text(
                json.dumps(
                    {
                        "kafka_bootstrap_servers": urls.kafka_bootstrap_servers,
                        "database_url": urls.database_url,
                        "redis_url": urls.redis_url,
                        "bff_port": bff_port,
                        "pid": os.getpid(),
                    },
                    indent=2,
                )
            )
            children = _children(demo)
            for name, argv in children.items():
                group.start(name, argv, env)
            url = f"http://{settings.bff_host}:{bff_port}"
            _wait_for_bff(url, group)
            print(
                f"greenai is up in {time.monotonic() - started:.1f}s: UI on {url} "
                f"(logs in {settings.logs_dir}; Ctrl-C stops)",
                flush=True,
            )
            _supervise(group, children, env)
    except KeyboardInterrupt:
        print("greenai: stopping", flush=True)
    finally:
        group.stop_all()
        settings.stack_file.unlink(missing_ok=True)
    return 0


def _supervise(group: ProcessGroup, children: dict[str, list[str]], env: dict[str, str]) -> None:
    """Restart a child that dies, with backoff over a sliding window; say which and why."""
    policy = RestartPolicy()
    due: dict[str, float] = {}  # child -> when to start it again
    while True:
        exited = group.first_exit(timeout=0.5)
        now = time.monotonic()
        if exited is not None:
            name, code = exited
            delay = policy.exited(name, now)
            reason = exit_reason(code, group.log_path(name))
            if policy.failing(name, now):
                print(
                    f"greenai: {name} keeps failing ({policy.recent_exits(name)} exits in the "
                    f"last {policy.window:.0f}s; {reason}); still restarting it, every "
                    f"{delay:.0f}s; see {group.log_path(name)}",
                    flush=True,
                )
            else:
                print(f"greenai: {name} exited ({reason}); restarting in {delay:.0f}s", flush=True)
            due[name] = now + delay
        for name, at in list(due.items()):
            if at <= now:
                del due[name]
                group.start(name, children[name], env)
