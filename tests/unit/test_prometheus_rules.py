"""The Prometheus rules of infra/prometheus: promtool checks them and runs their unit tests
(infra/prometheus/tests), every alert is tested both firing and quiet, every recording rule's
value is tested, and every metric they read is one greenai exports. promtool comes from
Debian's prometheus package (`make install`); without it these fail with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import checks
from tests import monitoring


def promtool(*args: str) -> str:
    """Run promtool; its output, or the test fails with why (one line when it is missing)."""
    try:
        return checks.run([checks.tool("promtool"), *args])
    except checks.CheckFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def relative(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(checks.ROOT)) for p in paths]


def rule_tests() -> list[dict[str, Any]]:
    return [
        test for path in monitoring.RULE_TESTS for test in yaml.safe_load(path.read_text())["tests"]
    ]


def test_promtool_checks_the_rules() -> None:
    assert monitoring.RULES, "no infra/prometheus/*.rules.yml"
    said = promtool("check", "rules", *relative(monitoring.RULES))
    assert f"SUCCESS: {len(monitoring.rules())} rules found" in said, said


def test_the_rules_pass_their_promtool_unit_tests() -> None:
    assert monitoring.RULE_TESTS, "no infra/prometheus/tests/*.yml"
    promtool("test", "rules", *relative(monitoring.RULE_TESTS))


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    alerts = [r for r in monitoring.rules() if "alert" in r]
    assert alerts
    for rule in alerts:
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"].split()) >= 8, rule["alert"]


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in rule_tests():
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = {r["alert"] for r in monitoring.rules() if "alert" in r}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested quiet on healthy series"
    assert (firing | quiet) - alerts == set(), "tests of alerts that do not exist"


def test_every_recording_rule_has_its_value_tested() -> None:
    tested = " ".join(
        case["expr"] for test in rule_tests() for case in test.get("promql_expr_test", [])
    )
    recorded = {r["record"] for r in monitoring.rules() if "record" in r}
    assert {name for name in recorded if name not in tested} == set()


def test_the_rules_read_only_metrics_greenai_exports_and_rules_that_exist() -> None:
    exported = monitoring.exported_metrics()
    recorded = {r["record"] for r in monitoring.rules() if "record" in r}
    for rule in monitoring.rules():
        raw, derived = monitoring.metric_names(rule["expr"])
        name = rule.get("alert") or rule.get("record")
        assert raw - exported == set(), f"{name} reads metrics no process exports"
        assert derived - recorded == set(), f"{name} reads recorded series no rule records"
