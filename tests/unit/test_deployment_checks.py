"""The deployment checks of `make lint` (deploy/checks.py), run here too so that CI proves
them, and what the Helm chart promises. Tools come from `make install`; a missing one fails
the check with one line, it is never skipped."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from deploy import checks


@pytest.mark.parametrize("name", sorted(checks.CHECKS))
def test_check_passes(name: str) -> None:
    try:
        checks.CHECKS[name]()
    except checks.CheckFailed as exc:
        pytest.fail(f"{name}: {exc}", pytrace=False)


def manifests(*values: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The chart rendered with ``--set`` values: each resource by (kind, name)."""
    extra = [arg for value in values for arg in ("--set", value)]
    rendered = checks.render(extra)
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(rendered) if d}


def containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec: list[dict[str, Any]] = resource["spec"]["template"]["spec"]["containers"]
    return spec


def env_names(resource: dict[str, Any]) -> set[str]:
    return {e["name"] for c in containers(resource) for e in c.get("env", [])}


def test_kubeconform_rejects_an_unknown_field() -> None:
    rendered = checks.render(["--set", "workerProbes.readiness.bogusField=1"])
    with pytest.raises(checks.CheckFailed, match="bogusField"):
        checks.kubeconform(rendered, checks.KUBERNETES_VERSIONS[-1])


def test_kubeconform_checks_the_servicemonitor_against_its_crd() -> None:
    rendered = checks.render(
        ["--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.interval=often"]
    )
    with pytest.raises(checks.CheckFailed, match="ServiceMonitor"):
        checks.kubeconform(rendered, checks.KUBERNETES_VERSIONS[-1])


def test_the_scheduler_is_a_singleton_whatever_replicas_says() -> None:
    found = manifests("workers.scheduler.replicas=3", "workers.diff.replicas=7")
    scheduler = found[("Deployment", "greenai-scheduler")]
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert found[("Deployment", "greenai-diff")]["spec"]["replicas"] == 7


def test_every_process_is_its_own_deployment_with_probes_and_limits() -> None:
    found = manifests()
    deployments = {name for kind, name in found if kind == "Deployment"}
    assert deployments == {
        f"greenai-{p}" for p in ("diff", "attribution", "notifier", "sink", "scheduler", "bff")
    }
    commands = {name: containers(found[("Deployment", name)])[0]["command"] for name in deployments}
    assert commands["greenai-sink"] == ["python", "-m", "bff.sink"]
    assert commands["greenai-scheduler"] == ["python", "-m", "streams.scheduler"]
    assert commands["greenai-bff"][0] == "gunicorn"
    for name in deployments:
        (container,) = containers(found[("Deployment", name)])
        assert container["readinessProbe"] and container["livenessProbe"], name
        assert container["resources"]["requests"] and container["resources"]["limits"], name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert "metrics" in {p["name"] for p in container["ports"]}, name
    bff = containers(found[("Deployment", "greenai-bff")])[0]
    assert bff["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert bff["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert ("HorizontalPodAutoscaler", "greenai-bff") in found
    assert ("PodDisruptionBudget", "greenai-bff") in found


def test_only_the_migration_job_holds_the_owner_credentials() -> None:
    found = manifests("secrets.databaseOwnerUrl=postgresql://owner:pw@db/greenai")
    owner = "GREENAI_DATABASE_OWNER_URL"
    job = found[("Job", "greenai-migrate")]
    assert owner in env_names(job)
    assert containers(job)[0]["command"] == ["python", "-m", "streams.migrate", "--topics"]
    for (kind, name), resource in found.items():
        if kind == "Deployment":
            assert owner not in env_names(resource), name
            assert {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS"} <= env_names(resource)


def test_optional_parts_are_off_by_default_and_on_when_asked() -> None:
    kinds = {kind for kind, _ in manifests()}
    assert not kinds & {"ServiceMonitor", "NetworkPolicy"}
    kinds = {
        kind for kind, _ in manifests("serviceMonitor.enabled=true", "networkPolicy.enabled=true")
    }
    assert {"ServiceMonitor", "NetworkPolicy"} <= kinds


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), stage by stage."""
    text = checks.DOCKERFILE.read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(line)
    return stages


def test_the_final_image_copies_what_was_built_and_runs_unprivileged() -> None:
    *builders, final = dockerfile_stages()
    assert len(builders) == 2
    runs = [line for line in final if line.startswith("RUN ")]
    assert not any(tool in run for run in runs for tool in ("apt-get", "pip", "npm")), runs
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "COPY --from=ui /src/frontend/dist /app/frontend/dist" in final
    assert final[-1].startswith("CMD ")
    user = [line for line in final if line.startswith("USER ")]
    assert user == ["USER 10001:10001"]
    assert final.index(user[0]) > max(final.index(run) for run in runs)
