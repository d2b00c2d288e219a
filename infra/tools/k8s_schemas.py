"""The JSON schemas kubeconform checks the Helm chart against, made from pinned packages.

kubeconform reads its schemas from GitHub by default, which this project cannot reach. The
Kubernetes schemas come from the PyPI package kubernetes-validate instead (pinned below),
which ships them for every Kubernetes release from 1.25 on, strict (no unknown fields)
among them. They refer to one shared file by an absolute URL of kubernetes.io; this script
copies the releases we check into kubeconform's layout with those references made local:

    DEST/v1.37.0-standalone-strict/deployment-apps-v1.json  (and _definitions.json beside)

The custom resources (the ServiceMonitor of monitoring.coreos.com/v1) are the CRDs that
controller-gen generated from the Prometheus Operator's API types (infra/tools/crds), turned
into strict JSON schemas the way kubeconform's openapi2jsonschema does:

    DEST/crds/monitoring.coreos.com/servicemonitor_v1.json

Usage: python infra/tools/k8s_schemas.py DEST CRD_YAML_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

PACKAGE = "kubernetes-validate"
VERSION = "1.37.0"
# the oldest release the chart supports (Chart.yaml kubeVersion) and the newest shipped
KUBERNETES_VERSIONS = ("1.25.0", "1.37.0")
SHARED = "/api/_definitions.json#"
SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")


def kubernetes_schemas(dest: Path) -> None:
    """Download the pinned wheel and write each release's strict schemas under ``dest``."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
             f"{PACKAGE}=={VERSION}"],
            check=True,
        )  # fmt: skip
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for version in KUBERNETES_VERSIONS:
                prefix = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
                out = dest / f"v{version}-standalone-strict"
                out.mkdir(parents=True, exist_ok=True)
                names = [n for n in archive.namelist() if n.startswith(prefix)]
                if not names:
                    raise SystemExit(f"{PACKAGE} {VERSION} has no schemas for {version}")
                for name in names:
                    schema = json.loads(archive.read(name))
                    (out / name.removeprefix(prefix)).write_text(json.dumps(local(schema)))


def local(schema: Any) -> Any:
    """``schema`` without ``$id`` and with references to the shared file made relative, so
    that they resolve beside the file instead of on kubernetes.io."""
    if isinstance(schema, dict):
        out = {k: local(v) for k, v in schema.items() if k != "$id"}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(SHARED):
            out["$ref"] = "_definitions.json#" + ref.removeprefix(SHARED)
        return out
    if isinstance(schema, list):
        return [local(v) for v in schema]
    return schema


def crd_schemas(crd_dir: Path, dest: Path) -> list[Path]:
    """A strict JSON schema for every version of every CRD in ``crd_dir``."""
    written = []
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"].lower()
        for version in crd["spec"]["versions"]:
            out = dest / "crds" / group / f"{kind}_{version['name']}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(strict(version["schema"]["openAPIV3Schema"])))
            written.append(out)
    return written


def strict(schema: Any) -> Any:
    """No unknown fields: every object that lists its properties and says nothing else about
    others gets ``additionalProperties: false`` (as openapi2jsonschema's strict mode)."""
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        # a map of names to schemas is not a schema itself (a field may be called "properties")
        k: {name: strict(s) for name, s in v.items()} if k in SCHEMA_MAPS else strict(v)
        for k, v in schema.items()
    }
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    dest, crd_dir = Path(sys.argv[1]), Path(sys.argv[2])
    kubernetes_schemas(dest)
    if not any(p.name == "servicemonitor_v1.json" for p in crd_schemas(crd_dir, dest)):
        raise SystemExit(f"no ServiceMonitor CRD in {crd_dir}")


if __name__ == "__main__":
    main()
