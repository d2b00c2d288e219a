"""What the monitoring tests share: the Grafana dashboards of ``infra/grafana/dashboards`` and
their queries as Prometheus runs them (Grafana's variables, ``$__rate_interval``, ``$__range``
and the dashboard's own, replaced by values a Grafana would give them), the rules of
``infra/prometheus``, and the names of the metrics greenai's code exports."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "infra" / "grafana" / "dashboards"
RULES = sorted((ROOT / "infra" / "prometheus").glob("*.rules.yml"))
RULE_TESTS = sorted((ROOT / "infra" / "prometheus" / "tests").glob("*.yml"))
# The modules that define greenai's metrics (importing them registers them).
METRIC_MODULES = (
    "streams.metrics",
    "streams.diff.metrics",
    "streams.attribution.metrics",
    "streams.notify.metrics",
    "streams.scheduler.metrics",
    "streams.ingest.metrics",
    "bff.metrics",
    "greenai.up",
)
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
# $name, ${name}, ${name:format} and [[name]]: Grafana's ways of naming a variable
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard, by file stem."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that shows data (rows' nested panels included, the rows themselves not)."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panels({"panels": panel.get("panels", [])})
        else:
            yield panel


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref: str
    expr: str

    @property
    def name(self) -> str:
        return f"{self.dashboard}/{self.panel}/{self.ref}"


def queries() -> list[Query]:
    """Every target's query of every dashboard."""
    return [
        Query(stem, panel["title"], target["refId"], target["expr"])
        for stem, board in dashboards().items()
        for panel in panels(board)
        for target in panel.get("targets", [])
    ]


def variables(board: dict[str, Any], scrape_seconds: int, range_seconds: int) -> dict[str, str]:
    """What Grafana puts for each variable a query may name: its built-in intervals (for a
    Prometheus scraped every ``scrape_seconds`` and a time range of ``range_seconds``) and
    the dashboard's template variables at "All" (their ``allValue``)."""
    found = {
        "__interval": f"{scrape_seconds}s",
        "__rate_interval": f"{4 * scrape_seconds}s",  # Grafana's floor: 4 scrape intervals
        "__range": f"{range_seconds}s",
        "__range_s": str(range_seconds),
        "__range_ms": str(range_seconds * 1000),
    }
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "datasource":
            continue
        if variable.get("includeAll") and variable.get("allValue"):
            found[variable["name"]] = variable["allValue"]
        else:
            found[variable["name"]] = ".*"
    return found


def substitute(expr: str, values: dict[str, str]) -> str:
    """``expr`` with every variable replaced (KeyError for one that has no value)."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        return values[name]

    return VARIABLE.sub(value, expr)


def promql(query: Query, scrape_seconds: int, range_seconds: int) -> str:
    """The query as Prometheus gets it from the dashboard."""
    board = dashboards()[query.dashboard]
    return substitute(query.expr, variables(board, scrape_seconds, range_seconds))


def variable_queries(board: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each query variable's ``label_values(metric, label)``: (variable, metric, label)."""
    out = []
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        found = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", text)
        if found is None:
            raise ValueError(f"{variable['name']}: not a label_values() query: {text}")
        out.append((variable["name"], found.group(1), found.group(2)))
    return out


def exported_metrics() -> set[str]:
    """Every series name greenai's processes expose (the standard process collector's too),
    and Prometheus's own ``up`` of each target."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names = {"up"}
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def rules() -> list[dict[str, Any]]:
    """Every rule of infra/prometheus/*.rules.yml."""
    return [
        rule
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def metric_names(expr: str) -> tuple[set[str], set[str]]:
    """The metric names a PromQL expression reads: (greenai's and the process collector's,
    the recorded ones named ``level:metric:operations``). Strings and label names aside."""
    tokens = set(NAME.findall(QUOTED.sub("", expr)))
    recorded = {t for t in tokens if ":" in t}
    raw = {t for t in tokens if t.startswith(("greenai_", "process_")) and ":" not in t}
    raw |= tokens & {"up"}
    return raw, recorded
