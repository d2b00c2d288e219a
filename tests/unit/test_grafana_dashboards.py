"""The Grafana dashboards of infra/grafana/dashboards and their provisioning, without a
Grafana: every panel reads the dashboard's Prometheus variable, the panels tile the grid,
every query parses (promtool, with Grafana's variables substituted) and reads only metrics
greenai exports or the rules record, and docker-compose.yml mounts what the provisioning
files name. tests/integration/test_dashboards.py runs every query against a real Prometheus."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import checks
from tests import monitoring

GRAFANA = monitoring.ROOT / "infra" / "grafana"
PANEL_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def boards() -> dict[str, dict[str, Any]]:
    return monitoring.dashboards()


def test_both_dashboards_are_there_with_their_own_uids() -> None:
    found = boards()
    assert set(found) >= {"pipeline-health", "recon-quality"}
    uids = [b["uid"] for b in found.values()]
    assert len(set(uids)) == len(uids)
    for board in found.values():
        assert board["title"] and board["schemaVersion"] >= 36 and "id" not in board


@pytest.mark.parametrize("stem", sorted(boards()))
def test_every_panel_reads_the_dashboards_prometheus_variable(stem: str) -> None:
    board = boards()[stem]
    (variable,) = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert (variable["name"], variable["query"]) == ("datasource", "prometheus")
    for panel in monitoring.panels(board):
        assert panel["datasource"] == PANEL_DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        assert panel.get("description"), panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == PANEL_DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"] == PANEL_DATASOURCE, variable["name"]


@pytest.mark.parametrize("stem", sorted(boards()))
def test_the_panels_tile_the_grid(stem: str) -> None:
    board = boards()[stem]
    taken: dict[tuple[int, int], str] = {}
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in board["panels"]:
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["w"] > 0 and box["x"] + box["w"] <= 24, panel["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[x, y]}"
                taken[x, y] = panel["title"]


def test_every_query_parses(tmp_path: Path) -> None:
    """Each query, its variables substituted, as a recording rule that promtool checks."""
    queries = monitoring.queries()
    rules = [
        {"record": f"dashboard:query:{n}", "expr": monitoring.promql(q, 15, 3600)}
        for n, q in enumerate(queries)
    ]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    try:
        checks.run([checks.tool("promtool"), "check", "rules", str(path)])
    except checks.CheckFailed as exc:
        failed = {int(n) for n in re.findall(r"dashboard:query:(\d+)", str(exc))}
        names = [queries[n].name for n in sorted(failed)] or [str(exc)]
        pytest.fail(f"queries that do not parse: {', '.join(names)}", pytrace=False)


def test_every_variable_is_substituted() -> None:
    for query in monitoring.queries():
        promql = monitoring.promql(query, 15, 3600)
        assert not monitoring.VARIABLE.search(promql), f"{query.name}: {promql}"


def test_the_dashboards_read_only_metrics_greenai_exports_and_rules_that_exist() -> None:
    exported = monitoring.exported_metrics()
    recorded = {r["record"] for r in monitoring.rules() if "record" in r}
    for query in monitoring.queries():
        raw, derived = monitoring.metric_names(query.expr)
        assert raw or derived, f"{query.name} reads no metric"
        assert raw - exported == set(), f"{query.name} reads metrics no process exports"
        assert derived - recorded == set(), f"{query.name} reads series no rule records"
    for board in boards().values():
        for name, metric, _ in monitoring.variable_queries(board):
            assert monitoring.metric_names(metric)[0] <= exported, name


def compose_mounts(service: str) -> dict[str, str]:
    """docker-compose.yml's bind mounts of ``service``: container path -> path here."""
    compose = yaml.safe_load((monitoring.ROOT / "docker-compose.yml").read_text())
    out = {}
    for volume in compose["services"][service]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            out[target] = source[2:]
    return out


def test_docker_compose_mounts_what_the_provisioning_names() -> None:
    mounts = compose_mounts("grafana")
    for kind in ("datasources", "dashboards"):
        here = f"infra/grafana/provisioning/{kind}"
        assert mounts[f"/etc/grafana/provisioning/{kind}"] == here
        assert list((monitoring.ROOT / here).glob("*.yml")), here
    (provider,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "greenai.yml").read_text()
    )["providers"]
    assert mounts[provider["options"]["path"]] == "infra/grafana/dashboards"
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "greenai.yml").read_text())
    prometheus = [d for d in sources["datasources"] if d["type"] == "prometheus"]
    assert prometheus and prometheus[0]["url"] == "http://prometheus:9090"


def test_docker_compose_prometheus_loads_the_rules() -> None:
    mounts = compose_mounts("prometheus")
    config_in_container = next(t for t, s in mounts.items() if s == "infra/compose/prometheus.yml")
    config = yaml.safe_load((monitoring.ROOT / "infra/compose/prometheus.yml").read_text())
    (pattern,) = config["rule_files"]
    # the rule files, as Prometheus resolves them in the container (next to its config) ...
    wanted = str(Path(config_in_container).parent / pattern)
    rules_dir = next(t for t, s in mounts.items() if s == "infra/prometheus")
    assert Path(wanted).parent.resolve() == Path(rules_dir).resolve()
    # ... and here (promtool check config checks them in `make lint`)
    here = sorted(p.resolve() for p in (monitoring.ROOT / "infra/compose").glob(pattern))
    assert here == monitoring.RULES


def test_every_prometheus_setup_labels_each_target_with_its_process(tmp_path: Path) -> None:
    """The rules and dashboards group by `process` (and `worker` where there is one): the
    local stack's discovery files, docker-compose's Prometheus and the chart's ServiceMonitor
    all give it."""
    from streams import metrics

    metrics._announce(tmp_path, "diff", "2", "127.0.0.1", 9999)
    (target,) = json.loads((tmp_path / "metrics" / "diff-2.json").read_text())
    assert target["labels"] == {"process": "diff", "worker": "2"}
    compose = yaml.safe_load((monitoring.ROOT / "infra/compose/prometheus.yml").read_text())
    (greenai,) = [j for j in compose["scrape_configs"] if j["job_name"] == "greenai"]
    assert "process" in {r["target_label"] for r in greenai["relabel_configs"]}
    rendered = checks.render(["--set", "serviceMonitor.enabled=true"])
    (monitor,) = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "ServiceMonitor"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert {r["targetLabel"] for r in endpoint["relabelings"]} >= {"process", "worker"}
