"""The REST API's personas and helpers.

- `api`: a client holding an API key of `org`; `other_api`: one of `other_org`;
  `anonymous`: no key at all;
- `fixture_numbers`: the org's caller IDs with exactly the made-up ids Vapi fixtures use;
- `load_fixture(name)`: a file of tests/spec/fixtures with its `_` annotations stripped;
- `vapi_schema(name)`: a JSON-schema validator for a component of Vapi's OpenAPI;
- `dial(campaign, ...)`: run the real dispatcher once and move calls through real events.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import Call, Campaign, PhoneNumber
from campaigns.services.inputs import CallEvent
from dialer.dispatch import dispatch_campaign

SPEC = Path(__file__).resolve().parents[1] / "spec"
FIXTURES = SPEC / "fixtures"
# Dialdeck's documented additions to Vapi's Campaign (extra keys are allowed by Vapi's schema;
# the status value is not, so validation widens the enum by exactly this one value).
EXTENSION_KEYS = {"dialingStrategy", "maxConcurrency"}
EXTENSION_STATUSES = ["paused"]


def load_fixture(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not k.startswith("_")}
    return data


def fixture_phone_number_ids() -> set[str]:
    """Every phoneNumberId the fixtures mention (top level and in dial plans)."""
    ids: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "phoneNumberId" and isinstance(item, str):
                    ids.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in FIXTURES.rglob("*.json"):
        if "provider" not in path.parts:
            walk(json.loads(path.read_text()))
    return ids


def _client(organization, owner) -> APIClient:
    _, raw = services.api_key_create(organization=organization, by=owner, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_key = raw
    return client


@pytest.fixture
def api(org, owner) -> APIClient:
    return _client(org, owner)


@pytest.fixture
def other_api(other_org, outsider) -> APIClient:
    return _client(other_org, outsider)


@pytest.fixture
def anonymous(db) -> APIClient:
    return APIClient()


@pytest.fixture
def fixture_numbers(org, provider) -> list[PhoneNumber]:
    """Caller IDs of `org` whose ids are the ones the Vapi fixtures reference."""
    return [
        PhoneNumber.objects.create(
            id=pk, organization=org, provider_account=provider, number=f"+1415555{1000 + i:04d}"
        )
        for i, pk in enumerate(sorted(fixture_phone_number_ids()))
    ]


@pytest.fixture(scope="session")
def vapi_openapi() -> dict:
    return json.loads((SPEC / "vapi-openapi-campaign.json").read_text())


@pytest.fixture(scope="session")
def vapi_schema(vapi_openapi) -> Callable[[str], jsonschema.protocols.Validator]:
    """A validator for one of Vapi's components ($refs resolved within the same document)."""
    components = copy.deepcopy(vapi_openapi["components"])
    components["schemas"]["Campaign"]["properties"]["status"]["enum"] += EXTENSION_STATUSES

    def validator(name: str) -> jsonschema.protocols.Validator:
        schema = {"components": components, "$ref": f"#/components/schemas/{name}"}
        return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    return validator


@pytest.fixture
def campaign_body(fixture_numbers) -> Callable[..., dict]:
    """A valid POST /campaign body (create-minimal.json) with `customers` numbers and overrides."""

    def body(count: int = 3, **overrides: Any) -> dict:
        data = load_fixture("create-minimal.json")
        data["customers"] = [{"number": f"+1415555{i:04d}", "name": f"Customer {i}"} for i in range(count)]
        data.update(overrides)
        return data

    return body


@pytest.fixture
def create(api, campaign_body) -> Callable[..., dict]:
    """Create a campaign through the API; returns the response body."""

    def make(count: int = 3, **overrides: Any) -> dict:
        response = api.post("/campaign", campaign_body(count, **overrides), format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


@pytest.fixture
def dial(owner, provider) -> Callable[..., list[Call]]:
    """Start `campaign` (if scheduled), queue its calls with the real dispatcher, then apply
    `events` ({customer index: [(status, endedReason, analysis)…]}) as the provider would."""

    def run(campaign: Campaign, events: dict[int, list[tuple]] | None = None) -> list[Call]:
        campaign = Campaign.objects.get(pk=campaign.pk)
        if campaign.status == "scheduled":
            campaign = services.campaign_start(campaign=campaign, by=owner)
        dispatch_campaign(campaign, now=timezone.now(), enqueue=lambda ids: None)
        calls = {
            c.customer.position: c for c in Call.objects.filter(campaign=campaign).select_related("customer")
        }
        for index, steps in (events or {}).items():
            for status, ended_reason, analysis in steps:
                services.record_call_event(
                    account=provider,
                    event=CallEvent(
                        kind="status-update",
                        status=status,
                        call_id=str(calls[index].pk),
                        ended_reason=ended_reason,
                        analysis=analysis,
                    ),
                )
        return list(Call.objects.filter(campaign=campaign).order_by("created_at"))

    return run


def messages(response) -> list[str]:
    body = response.json()
    assert set(body) >= {"message", "error", "statusCode"}, body
    assert body["statusCode"] == response.status_code
    return body["message"]
