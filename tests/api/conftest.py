"""The REST API's personas and helpers.

- `api`: a client holding an API key of `org`; `other_api`: one of `other_org`;
  `anonymous`: no key at all;
- `fixture_numbers`: the org's caller IDs with exactly the made-up ids Vapi fixtures use;
- `load_fixture(name)`: a file of tests/spec/fixtures with its `_` annotations stripped;
- `vapi_schema(name)`: a JSON-schema validator for a component of Vapi's OpenAPI (the v1
  reference, 2025-12 to 2026-07); `vapi_2026(name)` one of its 2026-08 OpenAPI, and
  `vapi_answer(method, path, status, body)` the problems of an answer against what that document
  declares for the operation (the campaign and phone-number paths);
- `create_v2(...)`: create a campaign through POST /v2/campaign;
- `dial(campaign, ...)`: run the real dispatcher once and move calls through real events.
"""

from __future__ import annotations

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
# Keys of a campaign created without Vapi 2026's settings beyond the 2025 fixtures' shape:
# maxConcurrency (Vapi's since 2026) and our dialingStrategy. Extra keys are allowed by Vapi's
# schema; values outside it are not, and none is widened (a paused campaign reads in-progress).
EXTENSION_KEYS = {"dialingStrategy", "maxConcurrency"}
# Our keys on the Campaign document that Vapi's 2026 Campaign does not have.
# The outcome settings (api.serializers.outcomes), shown only when a campaign sets them.
OUTCOME_EXTENSIONS = {
    "objective",
    "analysisSchema",
    "objectiveField",
    "outcomeRules",
    "hangUpIsOptOut",
    "hangUpOptOutSeconds",
    "callbackField",
    "maxCallbacks",
    "voicemailPlan",
    "autoPauseEnabled",
    "autoPauseWindow",
    "autoPauseErrorRate",
    "autoPauseConsecutive",
    "inboundMode",
    "inboundRejectionMessage",
    "inboundRouteDoNotCall",
}
# Links to a re-run's source and a series, and why a campaign paused itself (api.serializers.series).
LINK_EXTENSIONS = {"rerunOfCampaignId", "rerunWho", "seriesId", "seriesRunOn", "pausedReason"}
DOCUMENT_EXTENSIONS = {
    "dialingStrategy",
    "paused",
    "pausedAt",
    "truncated",
    "callerIdPool",
    *OUTCOME_EXTENSIONS,
    *LINK_EXTENSIONS,
}
# Vapi's 2026 document declares `serverMessages` an array AND puts the values' enum on the array
# itself (NestJS's output for an enum array), which no array can satisfy: validation keeps the
# items' enum and drops the array's. The one change made to Vapi's document.
VAPI_2026 = "vapi-openapi-campaign-2026-08.json"
PHONE_NUMBERS_2026 = "vapi-openapi-phone-number-2026-08.json"


def load_fixture(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not k.startswith("_")}
    return data


def without_call_servers(body: Any) -> Any:
    """`body` without its customers' own `assistantOverrides.server` (no fixture has one today):
    Dialdeck refuses it (a call's messages go to one server, and must reach Dialdeck), where Vapi
    would accept it. test_v1_2026 checks the refusal; their `serverMessages` are kept."""
    body = json.loads(json.dumps(body))
    entries = body.get("dialPlan", []) if isinstance(body, dict) else []
    for customer in [*body.get("customers", []), *(c for e in entries for c in e["customers"])]:
        customer.get("assistantOverrides", {}).pop("server", None)
    return body


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


def _validator(document: dict, schema: dict) -> jsonschema.protocols.Validator:
    """`schema` with its $refs resolved in `document`; formats (date-time, uuid) checked."""
    return jsonschema.Draft202012Validator(
        {"components": document["components"], **schema}, format_checker=jsonschema.FormatChecker()
    )


def _component(document: dict) -> Callable[[str], jsonschema.protocols.Validator]:
    return lambda name: _validator(document, {"$ref": f"#/components/schemas/{name}"})


@pytest.fixture(scope="session")
def vapi_schema(vapi_openapi) -> Callable[[str], jsonschema.protocols.Validator]:
    """A validator for one of Vapi's components ($refs resolved within the same document), as is."""
    return _component(vapi_openapi)


def _fixed_2026() -> dict:
    document = json.loads((SPEC / VAPI_2026).read_text())
    for schema in document["components"]["schemas"].values():
        messages = schema.get("properties", {}).get("serverMessages", {})
        if messages.get("type") == "array":
            messages.pop("enum", None)
    return document


@pytest.fixture(scope="session")
def vapi_openapi_2026() -> dict:
    """Vapi's 2026-08 OpenAPI of the campaign paths, exactly as published."""
    return json.loads((SPEC / VAPI_2026).read_text())


@pytest.fixture(scope="session")
def vapi_2026() -> Callable[[str], jsonschema.protocols.Validator]:
    """A validator for a component of Vapi's 2026-08 campaign OpenAPI (serverMessages fixed, above)."""
    return _component(_fixed_2026())


@pytest.fixture(scope="session")
def vapi_answer() -> Callable[[str, str, int, Any], list[str]]:
    """The problems of an answer against the schema Vapi's 2026-08 OpenAPI declares for the
    operation (`method`, `path` as Vapi writes it, e.g. /v2/campaign/{id}) and status; [] if none.
    Campaign paths from the campaign document, phone-number paths from Vapi's full document
    (tests/spec, the phone-number subset)."""
    documents = [_fixed_2026(), json.loads((SPEC / PHONE_NUMBERS_2026).read_text())]

    def problems(method: str, path: str, status: int, body: Any) -> list[str]:
        document = next(d for d in documents if path in d["paths"])
        responses = document["paths"][path][method.lower()]["responses"]
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        errors = sorted(_validator(document, schema).iter_errors(body), key=str)
        return [f"{list(e.absolute_path)}: {e.message}" for e in errors]

    return problems


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
def create_v2(api, campaign_body) -> Callable[..., dict]:
    """Create a campaign through POST /v2/campaign; returns the response body."""

    def make(count: int = 3, **overrides: Any) -> dict:
        response = api.post("/v2/campaign", campaign_body(count, **overrides), format="json")
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
