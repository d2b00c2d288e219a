"""The API against its own OpenAPI description (schemathesis): with a valid principal, no
operation answers 5xx, and every response — status, content type, headers, body — is one
the description declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from greenai.localstack import ServerUrls
from tests.integration.pipeline import Pipeline, start_pipeline

EXAMPLES = 25  # per operation: enough to reach every branch the schema allows, not slow


@pytest.fixture(scope="module")
def stack(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipeline = start_pipeline(servers, tmp_path_factory.mktemp("schema"), "schema")
    try:
        yield pipeline
    finally:
        pipeline.group.stop_all()


@pytest.fixture(scope="module")
def api_schema(stack: Pipeline) -> Any:
    auth = {"Authorization": f"Bearer {stack.admin_token}"}
    loaded = schemathesis.openapi.from_url(f"{stack.bff_url}/openapi.json", headers=auth)
    # the live stream never ends: it has its own tests
    return loaded.exclude(path_regex="^/api/stream$")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_fails_or_answers_outside_its_description(case: Any, stack: Pipeline) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {stack.admin_token}"},
        # valid input may still be refused for what it means (a token does not sign out, a
        # wrong current password): the description documents those refusals
        excluded_checks=[positive_data_acceptance],
    )
