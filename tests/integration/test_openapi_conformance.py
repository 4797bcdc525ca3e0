"""schemathesis against /openapi.json: no 5xx, and every answer matches the document.

Driven through schemathesis' Python API and hypothesis (not its pytest plugin), with a
bounded number of examples per operation so the suite stays fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

import tests.support.openapi_formats  # noqa: F401 - registers the service's own formats

pytestmark = pytest.mark.contract

# Per operation and generation mode. Submissions cost the most (bodies of up to 1,000
# generated records, a job each) and there is one per operation, so they get fewer; the
# probes take no input, a couple of calls suffice.
EXAMPLES_PER_OPERATION = 20
EXAMPLES_PER_SUBMISSION = 8
EXAMPLES_PER_PROBE = 2


def test_the_service_answers_as_its_document_says(live_service, api):
    schema = schemathesis.openapi.from_url(f"{live_service.base_url}/openapi.json")
    keys = {"APIKey": api.api_key, "SecretKey": api.secret_key}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation, mode in [(o, m) for o in operations for m in GenerationMode]:
        raw = operation.definition.raw
        examples = (EXAMPLES_PER_PROBE if "security" not in raw
                    else EXAMPLES_PER_SUBMISSION if "requestBody" in raw
                    else EXAMPLES_PER_OPERATION)

        @settings(max_examples=examples, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def conforms(case):
            # A record that breaks its schema is accepted (200) and fails alone, by design.
            case.call_and_validate(base_url=live_service.base_url, headers=keys,
                                   excluded_checks=[negative_data_rejection])
        conforms()
