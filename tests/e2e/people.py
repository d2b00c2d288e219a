"""The people of the browser tests: users with a password, made through the admin API."""

from __future__ import annotations

from pathlib import Path

from tests.integration.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "integration" / "data"
E2E = ROOT / "frontend" / "e2e"
PASSWORD = "a long and unusual passphrase"


def person(pipeline: Pipeline, name: str, role: str) -> dict[str, str]:
    """A user ``name`` with ``role`` (made once; the same on a second call)."""
    with pipeline.http() as admin:
        made = admin.post(
            "/api/users", json={"username": name, "roles": [role], "password": PASSWORD}
        )
    assert made.status_code in (201, 409), made.text
    return {"username": name, "password": PASSWORD}
