"""Property test over the OpenAPI schema (schemathesis): generated requests, valid and not, with
each role's key, never make the server fail and always get a documented answer. Bounded: a few
examples per operation so that it stays in the default suite.

(schemathesis' own pytest fixture integration does not run under pytest 9, so the test drives
each operation's hypothesis strategy itself.)"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from api.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.mark.parametrize("role", ["admin", "advocate"])
def test_generated_requests_never_fail_the_server(archive, keys, indexed, new_version, role):
    public_id = indexed(text="refoulés à la frontière du désert")
    new_version(public_id, [(0.0, 2.0, "refoulés à la frontière"), (2.0, 3.5, "au désert")],
                redacted=["refoulés à la frontière", "au désert"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(archive.settings, archive=archive))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=keys[role], checks=CHECKS)

        run()
