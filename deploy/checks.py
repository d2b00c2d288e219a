"""The deployment checks of ``make lint``, also run by tests/unit/test_deployment_checks.py:

    helm-lint     helm lint --strict, default values and ci/all-enabled-values.yaml
    kubeconform   helm template | kubeconform -strict, both values files, against the
                  Kubernetes schemas of the oldest and the newest release checked, and the
                  ServiceMonitor's CRD schema
    actionlint    the CI workflows
    compose       docker-compose config (the real Compose v2, built from the Go module
                  proxy; no Docker engine is needed to load and validate the file), with and
                  without the demo profile; promtool check config on its Prometheus file
    dockerfile    dockerfilelint (npm) on the Dockerfile
    prometheus-rules
                  promtool check rules on infra/prometheus/*.rules.yml, and promtool test rules
                  on their unit tests, infra/prometheus/tests/*.yml

The tools come from ``make install`` (.tools/, promtool from Debian's prometheus package).
A missing tool is a failure with one line that says so, never a skip.

Usage: python deploy/checks.py [NAME ...]   (all checks without a name)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
CHART = ROOT / "deploy" / "helm" / "greenai"
VALUES = {
    "default values": [],
    "all enabled": ["-f", str(CHART / "ci" / "all-enabled-values.yaml")],
}
SCHEMAS = TOOLS / "kubernetes-json-schema"
KUBERNETES_VERSIONS = ("1.25.0", "1.37.0")  # infra/tools/k8s_schemas.py writes these
SCHEMA_LOCATIONS = (
    f"{SCHEMAS}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}"
    "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
    f"{SCHEMAS}/crds/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
)
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERFILELINT = TOOLS / "npm" / "node_modules" / ".bin" / "dockerfilelint"
WORKFLOWS = ROOT / ".github" / "workflows"
PROMETHEUS = ROOT / "infra" / "prometheus"
RULES_FOUND = re.compile(r"SUCCESS: (\d+) rules found")
SUMMARY = re.compile(r"Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)")


class CheckFailed(Exception):
    """A check found a problem, or could not run; the message says which."""


def tool(name: str) -> str:
    """The path of a tool: ``.tools/bin`` first, then the PATH."""
    built = TOOLS / "bin" / name
    if built.is_file():
        return str(built)
    found = shutil.which(name)
    if found is None:
        raise CheckFailed(f"{name} is not installed: run `make install`")
    return found


def run(argv: Sequence[str], stdin: str | None = None) -> str:
    """Run ``argv``; its output, or CheckFailed with that output."""
    done = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(argv[:3])} ... failed ({done.returncode}):\n{output}")
    return output


def helm_lint() -> str:
    for args in VALUES.values():
        run([tool("helm"), "lint", "--strict", str(CHART), *args])
    return f"--strict, {len(VALUES)} values files"


def render(extra: Sequence[str] = ()) -> str:
    """The chart's manifests (``helm template``) with ``extra`` helm arguments."""
    return run([tool("helm"), "template", "greenai", str(CHART), *extra])


def kubeconform(manifests: str, kubernetes_version: str) -> int:
    """Validate ``manifests`` strictly; the number of resources, every one of them valid
    (a resource without a schema is an error, not a skip)."""
    if not SCHEMAS.is_dir():
        raise CheckFailed(f"{SCHEMAS.relative_to(ROOT)} is missing: run `make install`")
    locations = [arg for loc in SCHEMA_LOCATIONS for arg in ("-schema-location", loc)]
    output = run(
        [tool("kubeconform"), "-strict", "-summary", "-kubernetes-version", kubernetes_version,
         *locations, "-"],
        stdin=manifests,
    )  # fmt: skip
    documents = [d for d in yaml.safe_load_all(manifests) if d]
    found = SUMMARY.search(output)
    if found is None:
        raise CheckFailed(f"kubeconform printed no summary:\n{output}")
    valid, invalid, errors, skipped = map(int, found.groups())
    if (valid, invalid, errors, skipped) != (len(documents), 0, 0, 0):
        raise CheckFailed(f"kubeconform: {len(documents)} resources rendered, {output}")
    return valid


def kubeconform_chart() -> str:
    lines = []
    for name, args in VALUES.items():
        manifests = render(args)
        for version in KUBERNETES_VERSIONS:
            count = kubeconform(manifests, version)
            lines.append(f"{name} on {version}: {count} valid")
    return "; ".join(lines)


def actionlint() -> str:
    workflows = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    if not workflows:
        raise CheckFailed(f"no workflow in {WORKFLOWS.relative_to(ROOT)}")
    run([tool("actionlint"), "-no-color", *workflows])
    return f"{len(workflows)} workflow(s)"


def compose() -> str:
    compose = tool("docker-compose")
    services = set()
    for profile in ([], ["--profile", "demo"]):
        run([compose, "-f", str(COMPOSE_FILE), *profile, "config", "--quiet"])
        services |= set(
            run([compose, "-f", str(COMPOSE_FILE), *profile, "config", "--services"]).split()
        )
    run([tool("promtool"), "check", "config", str(ROOT / "infra/compose/prometheus.yml")])
    return f"docker-compose config: {len(services)} services; promtool check config"


def dockerfile() -> str:
    if not DOCKERFILELINT.is_file():
        raise CheckFailed("dockerfilelint is not installed: run `make install`")
    run([str(DOCKERFILELINT), str(DOCKERFILE)])
    return "dockerfilelint: no issue"


def prometheus_rules() -> str:
    rules = sorted(str(p.relative_to(ROOT)) for p in PROMETHEUS.glob("*.rules.yml"))
    tests = sorted(str(p.relative_to(ROOT)) for p in (PROMETHEUS / "tests").glob("*.yml"))
    if not rules or not tests:
        raise CheckFailed(f"no rules, or no tests of them, in {PROMETHEUS.relative_to(ROOT)}")
    promtool = tool("promtool")
    checked = run([promtool, "check", "rules", *rules])
    run([promtool, "test", "rules", *tests])
    found = sum(int(n) for n in RULES_FOUND.findall(checked))
    return f"promtool check rules: {found} rules; promtool test rules: {len(tests)} files"


CHECKS: dict[str, Callable[[], str]] = {
    "helm-lint": helm_lint,
    "kubeconform": kubeconform_chart,
    "actionlint": actionlint,
    "compose": compose,
    "dockerfile": dockerfile,
    "prometheus-rules": prometheus_rules,
}


def main(names: Sequence[str]) -> int:
    failed = 0
    for name in names or CHECKS:
        try:
            print(f"ok   {name}: {CHECKS[name]()}", flush=True)
        except CheckFailed as exc:
            print(f"FAIL {name}: {exc}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
