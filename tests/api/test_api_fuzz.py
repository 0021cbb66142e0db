"""Schemathesis: requests generated from ``/openapi.json``, sent as an admin, never answer 5xx.

Both kinds of request are generated: ones that fit the document (positive) and ones that break
it (negative: wrong types, missing fields, out-of-range values), which must be refused in the
one error shape.

One test per operation of the document, each bounded (``MAX_EXAMPLES``, derandomized) so that
it runs in CI on every change; Hypothesis shrinks a failure to the smallest request showing it.
The app under test is the one of the test's own database; the list of operations is read from
an app built only for its document.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from bridge.app import create_app
from dialer.runtime import build_runtime
from tests.api.conftest import bearer
from tests.conftest import make_settings
from tests.fakes.agent import FakeVoiceAgent

MAX_EXAMPLES = int(os.environ.get("DIALER_TEST_FUZZ_EXAMPLES", "25"))
"""Examples per operation and kind; ``DIALER_TEST_FUZZ_EXAMPLES=500`` for a longer hunt."""

_DOCUMENT = create_app(
    build_runtime(make_settings(database_url="sqlite://")), agent=FakeVoiceAgent()
).openapi()
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in _DOCUMENT["paths"].items()
    for method in item
    if path.startswith("/api/")
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_makes_the_api_fail(api, tokens, label, mode):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the app's document"
    headers = bearer(tokens["admin"])

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
        )
        if response.status_code >= 400:  # every refusal in the one error shape
            error = response.json()["error"]
            assert error["code"] and error["message"], response.text

    check()
