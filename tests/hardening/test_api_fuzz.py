"""Schemathesis over our own OpenAPI schema: every endpoint and method, with a valid key.

No server errors, and no response that breaks the schema it documents.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from campaigns import services
from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Like Django's test client: requests must not close the connection holding the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(org, owner, caller_id, make_campaign) -> dict[str, str]:
    make_campaign(3)  # something to read, update and delete
    _, raw = services.api_key_create(organization=org, by=owner, name="fuzz")
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_allows_breaks_the_api(case, bearer) -> None:
    # Every check but "schema-valid data is accepted": rules such as phoneNumberId XOR dialPlan,
    # or a phone number of this organization, are stricter than a JSON schema can say, and
    # refusing those with a 400 is the documented behaviour.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
