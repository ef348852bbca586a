"""/api/v1 fuzzed from its own OpenAPI document (schemathesis) against a real worker: no 5xx, and
every answer conforms to the documented status codes, content types and schemas."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.test_api import api  # noqa: F401 - a module-scoped real worker of this module's own


@pytest.fixture(scope="module")
def api_schema(api):  # noqa: F811 - the imported fixture
    return schemathesis.openapi.from_url(api.url + "/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
# a few examples per operation keeps the run near a minute on two cores; derandomized, so a
# failure found once is found again
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_v1_answers_as_documented(case, api):  # noqa: F811
    case.call_and_validate(base_url=api.url, headers=api.headers)
