"""``greenai up``: the whole system on one machine, in the foreground.

Starts (or connects to) Kafka, PostgreSQL and Redis, applies migrations and topics, then
runs the diff worker, the attribution worker and the BFF as child processes (restarting a
child that dies, with backoff: see ``greenai.localstack.supervisor``), plus the demo feed
with ``--demo``. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
from prometheus_client import Counter

from greenai.localstack import LocalServers, ProcessGroup, ServerUrls
from greenai.localstack import observability as observe
from greenai.localstack.accounts import CREDENTIALS_FILE, Accounts, ensure_accounts
from greenai.localstack.ports import free_port
from greenai.localstack.private import UMASK, private_dir, write_private
from greenai.localstack.supervisor import RestartPolicy, exit_reason
from streams import metrics
from streams.database import migrate
from streams.recon import Recon, load_recon
from streams.settings import Settings
from streams.topics import Topics, ensure_topics, partition_count

log = logging.getLogger("greenai.up")
RESTARTS = Counter("greenai_child_restarts", "Children greenai up restarted", ["child"])
ROOT = Path(__file__).resolve().parent.parent
DEMO_RECON = ROOT / "examples" / "demo" / "trades.yaml"


# The processes of the system, by name: each runs as ``python -m MODULE``.
PROCESSES = {
    "diff": "streams.diff",
    "attribution": "streams.attribution",
    "bff": "bff",
    "sink": "bff.sink",
    "notify": "streams.notify",
    "scheduler": "streams.scheduler",
}
DEMO_FEED = "streams.ingest.demo"
DEMO_FEED_NAME = "demo-feed"


def _children(demo: bool, workers: dict[str, int]) -> dict[str, tuple[list[str], str]]:
    """Each child's command line and worker id, by name: ``workers`` copies of a worker
    role (``diff``, ``diff-2``, ...), one of every other process."""
    out: dict[str, tuple[list[str], str]] = {}
    modules = PROCESSES | ({DEMO_FEED_NAME: DEMO_FEED} if demo else {})
    for role, module in modules.items():
        for n in range(1, workers.get(role, 1) + 1):
            out[role if n == 1 else f"{role}-{n}"] = ([sys.executable, "-m", module], str(n))
    return out


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


def children_env(
    urls: ServerUrls, home: Path, settings: Settings, bff_port: int, partitions: int
) -> dict[str, str]:
    """The environment of the workers and the BFF: the servers with the application's
    credentials (never the owner's), the home, the port, the topic prefix and the
    partition count the topics have."""
    return {
        **os.environ,
        "GREENAI_HOME": str(home),
        **urls.as_env(),
        "GREENAI_DATABASE_OWNER_URL": "",  # migrations are done: the children do not need it
        "GREENAI_BFF_PORT": str(bff_port),
        "GREENAI_TOPIC_PREFIX": settings.topic_prefix,
        "GREENAI_PARTITIONS": str(partitions),
    }


def topic_partitions(urls: ServerUrls, settings: Settings) -> int:
    """The partitions the records topic has (an existing topic keeps its count)."""
    found = partition_count(
        urls.kafka_bootstrap_servers,
        Topics(settings.topic_prefix).records,
        security=urls.kafka_security,
    )
    if found != settings.partitions:
        print(
            f"greenai: {Topics(settings.topic_prefix).records} has {found} partitions (made "
            f"before; GREENAI_PARTITIONS={settings.partitions} applies to new topics only)",
            flush=True,
        )
    return found


def run_stack(
    settings: Settings,
    *,
    demo: bool,
    workers: dict[str, int] | None = None,
    observability: bool = False,
) -> int:
    """Run the stack; ``workers``: how many diff and attribution workers (one each);
    ``observability``: Prometheus and Jaeger too."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    os.umask(UMASK)  # everything under GREENAI_HOME is its owner's only (children inherit it)
    home = settings.greenai_home.resolve()
    home.mkdir(parents=True, exist_ok=True)  # LocalServers makes it private
    private_dir(settings.logs_dir)
    started = time.monotonic()
    group = ProcessGroup(settings.logs_dir)
    try:
        # The servers the environment names (not those of a stale stack.json) are used as
        # they are; the others start here.
        with LocalServers.from_environ(home) as urls:
            migrate(urls.database_owner(), app_role=urls.database_app_role)
            ensure_topics(
                urls.kafka_bootstrap_servers,
                settings.topic_prefix,
                partitions=settings.partitions,
                security=urls.kafka_security,
            )
            partitions = topic_partitions(urls, settings)
            accounts = ensure_accounts(home)
            bff_port = settings.bff_port or free_port()
            env = children_env(urls, home, settings, bff_port, partitions)
            shutil.rmtree(home / "metrics", ignore_errors=True)  # a past run's targets
            watching = observe.start(home, group) if observability else None
            if watching is not None:
                env |= watching.env()  # every child sends its spans to Jaeger
            stack = {**urls.public(), "bff_port": bff_port, "pid": os.getpid()}
            write_private(settings.stack_file, json.dumps(stack, indent=2))  # no password
            planned = _children(demo, workers or {})
            children = {name: argv for name, (argv, _) in planned.items()}
            envs = {name: env | {"GREENAI_WORKER_ID": n} for name, (_, n) in planned.items()}
            envs["bff"] |= accounts.bff_env(demo)  # only the BFF holds the account secrets
            envs["bff"]["GREENAI_BFF_SINK"] = "false"  # the sink runs as its own child
            feed = children.pop(DEMO_FEED_NAME, None)
            for name, argv in children.items():
                group.start(name, argv, envs[name])
            url = f"http://{settings.bff_host}:{bff_port}"
            _wait_for_bff(url, group)
            if feed is not None:  # the demo recon goes through the API, like any recon
                _apply(url, accounts.token, load_recon(DEMO_RECON))
                group.start(DEMO_FEED_NAME, feed, envs[DEMO_FEED_NAME])
                children[DEMO_FEED_NAME] = feed
            print(
                f"greenai is up in {time.monotonic() - started:.1f}s: UI on {url} "
                f"(logs in {settings.logs_dir}; Ctrl-C stops)",
                flush=True,
            )
            print(sign_in_help(url, home, accounts, demo), flush=True)
            if watching is not None:
                print(
                    f"greenai: Prometheus on {watching.prometheus}, Jaeger's API on "
                    f"{watching.jaeger}/api/traces",
                    flush=True,
                )
            metrics.serve("up", home)  # greenai_child_restarts_total
            _supervise(group, children, envs)
    except KeyboardInterrupt:
        print("greenai: stopping", flush=True)
    finally:
        group.stop_all()
        settings.stack_file.unlink(missing_ok=True)
    return 0


def sign_in_help(url: str, home: Path, accounts: Accounts, demo: bool) -> str:
    """How to sign in: said once at every start (the password stays in the home's file)."""
    lines = [
        f"greenai: sign in at {url} as admin / {accounts.admin_password}",
    ]
    if demo:
        lines.append(
            f"greenai: demo analyst (created for the demo): analyst / "
            f"{accounts.demo_analyst_password}"
        )
    lines.append(
        f"greenai: these, and this stack's command-line token, are in "
        f"{home / CREDENTIALS_FILE} (readable by you only)"
    )
    return "\n".join(lines)


def _apply(url: str, token: str, recon: Recon) -> None:
    response = httpx.put(
        f"{url}/api/recons/{recon.name}",
        json=recon.model_dump(mode="json"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    if response.status_code >= 400:
        raise RuntimeError(f"applying the demo recon failed: {response.text.strip()[:200]}")


def _supervise(
    group: ProcessGroup, children: dict[str, list[str]], envs: dict[str, dict[str, str]]
) -> None:
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
                log.error(
                    "%s keeps failing (%d exits in the last %.0fs; %s); still restarting it, "
                    "every %.0fs; see %s",
                    name,
                    policy.recent_exits(name),
                    policy.window,
                    reason,
                    delay,
                    group.log_path(name),
                )
            else:
                log.warning("%s exited (%s); restarting in %.0fs", name, reason, delay)
            RESTARTS.labels(name).inc()
            due[name] = now + delay
        for name, at in list(due.items()):
            if at <= now:
                del due[name]
                group.start(name, children[name], envs[name])
