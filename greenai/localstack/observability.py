"""Prometheus and Jaeger beside the local stack (``greenai up --observability``, the tests).

Prometheus (Debian's package) scrapes every greenai process the local stack runs: each one
announces its metrics port as a file-based discovery target under ``GREENAI_HOME/metrics``
(:mod:`streams.metrics`), and the recording and alerting rules of ``infra/prometheus`` apply.
Jaeger (built from the Go module proxy by ``make install``, into ``.tools/bin``) takes the
processes' spans over OTLP/HTTP and answers its query API; its UI's assets are not in a
binary built that way (Docker Compose's image has them).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from greenai.localstack.ports import free_port
from greenai.localstack.processes import ProcessGroup

ROOT = Path(__file__).resolve().parents[2]
JAEGER = ROOT / ".tools" / "bin" / "jaeger"
JAEGER_CONFIG = ROOT / "infra" / "jaeger" / "config.yaml"
RULES = sorted((ROOT / "infra" / "prometheus").glob("*.rules.yml"))
SCRAPE_SECONDS = 5


class Unavailable(RuntimeError):
    """An observability server cannot start here (the message says what to do)."""


@dataclass(frozen=True)
class Observability:
    prometheus: str  # http://host:port
    jaeger: str  # the query API (and UI) address
    otlp: str  # where processes send spans (OTLP over HTTP)

    def env(self) -> dict[str, str]:
        """What a greenai process needs to send its spans here."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        }


def prometheus_config(home: Path, scrape_seconds: int = SCRAPE_SECONDS) -> dict[str, object]:
    """Scrape every target the stack's processes announce, and evaluate the rules."""
    return {
        "global": {
            "scrape_interval": f"{scrape_seconds}s",
            "evaluation_interval": f"{scrape_seconds}s",
        },
        "rule_files": [str(r) for r in RULES],
        "scrape_configs": [
            {
                "job_name": "greenai",
                "file_sd_configs": [
                    {"files": [str(home / "metrics" / "*.json")], "refresh_interval": "2s"}
                ],
            }
        ],
    }


def start(home: Path, group: ProcessGroup, *, timeout: float = 60) -> Observability:
    """Start Jaeger and Prometheus as children of ``group``; their addresses once ready."""
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        raise Unavailable("prometheus is not installed: run `make install`")
    if not JAEGER.exists():
        raise Unavailable(f"{JAEGER} is missing: run `make install` (it builds Jaeger once)")
    taken: set[int] = set()

    def port() -> int:
        found = free_port(taken)
        taken.add(found)
        return found

    jaeger_ports = {
        "GREENAI_JAEGER_OTLP_PORT": port(),
        "GREENAI_JAEGER_QUERY_PORT": port(),
        "GREENAI_JAEGER_QUERY_GRPC_PORT": port(),
        "GREENAI_JAEGER_HEALTH_PORT": port(),
    }
    group.start(
        "jaeger",
        [str(JAEGER), "--config", f"file:{JAEGER_CONFIG}"],
        {k: str(v) for k, v in jaeger_ports.items()},
    )
    where = home / "prometheus"
    (where / "data").mkdir(parents=True, exist_ok=True)
    (home / "metrics").mkdir(parents=True, exist_ok=True)
    config = where / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(home), sort_keys=False))
    web = port()
    group.start(
        "prometheus",
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={where / 'data'}",
            f"--web.listen-address=127.0.0.1:{web}",
            "--storage.tsdb.retention.time=2d",
        ],
        {},
    )
    found = Observability(
        prometheus=f"http://127.0.0.1:{web}",
        jaeger=f"http://127.0.0.1:{jaeger_ports['GREENAI_JAEGER_QUERY_PORT']}",
        otlp=f"http://127.0.0.1:{jaeger_ports['GREENAI_JAEGER_OTLP_PORT']}",
    )
    health = f"http://127.0.0.1:{jaeger_ports['GREENAI_JAEGER_HEALTH_PORT']}/status"
    _until_ready(group, [f"{found.prometheus}/-/ready", health], timeout)
    return found


def _until_ready(group: ProcessGroup, urls: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    while waiting:
        exited = group.first_exit(timeout=0)
        if exited is not None and exited[0] in ("jaeger", "prometheus"):
            raise Unavailable(f"{exited[0]} exited with {exited[1]}: see its log")
        try:
            if httpx.get(waiting[0], timeout=2).status_code == 200:
                waiting.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise Unavailable(f"{waiting[0]} did not answer within {timeout:.0f}s")
        time.sleep(0.3)
