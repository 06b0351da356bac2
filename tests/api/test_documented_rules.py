"""Each request body is one serializer that checks and documents: every limit the API enforces is
in the OpenAPI document, and the strategy's bounds, weekdays, HH:MM and retry outcomes shown
there are the ones the services keep (campaigns.rules.strategy)."""

from __future__ import annotations

import pytest

from campaigns.api.names import STRATEGY_KEYS
from campaigns.models import Campaign
from campaigns.rules.strategy import BOUNDS, HHMM_PATTERN, MAX_RETRY_DELAY, RETRY_OUTCOMES, WEEKDAYS
from tests.api.conftest import messages


@pytest.fixture
def components(anonymous) -> dict:
    return anonymous.get("/api/schema?format=json").json()["components"]["schemas"]


# (component, property, limit, value) -> the body just past the limit and the refusal it gets.
LIMITS = [
    ("CreateCampaignDTORequest", "customers", "minItems", 1),
    ("CreateCampaignDTORequest", "customers", "maxItems", 10_000),
    ("CreateCampaignDTORequest", "dialPlan", "minItems", 1),
    ("PatchedUpdateCampaignDTORequest", "dialPlan", "minItems", 1),
    ("DialPlanEntryRequest", "customers", "minItems", 1),
    ("DialPlanEntryRequest", "customers", "maxItems", 10_000),
    ("CreateDoNotCallDTORequest", "numbers", "minItems", 1),
    ("CreateDoNotCallDTORequest", "number", "maxLength", 40),
    ("CreatePhoneNumberDTORequest", "number", "maxLength", 40),
]


@pytest.mark.parametrize(("component", "name", "limit", "value"), LIMITS)
def test_every_length_the_api_enforces_is_documented(component, name, limit, value, components) -> None:
    assert components[component]["properties"][name][limit] == value


@pytest.mark.parametrize(
    ("url", "body", "message"),
    [
        ("/dnc", {"numbers": []}, "numbers must contain at least 1 elements"),
        ("/dnc", {"number": "+1" + "4" * 39}, "number must be shorter than or equal to 40 characters"),
        (
            "/phone-number",
            {"number": "+1" + "4" * 39, "providerAccountId": "x"},
            "number must be shorter than or equal to 40 characters",
        ),
        (
            "/campaign",
            {"name": "x", "squadId": "s", "dialPlan": []},
            "dialPlan must contain at least 1 elements",
        ),
        (
            "/campaign",
            {"name": "x", "squadId": "s", "dialPlan": [{"phoneNumberId": "p", "customers": []}]},
            "dialPlan.0.customers must contain at least 1 elements",
        ),
    ],
)
def test_a_body_just_past_a_documented_limit_is_refused_naming_it(url, body, message, api) -> None:
    response = api.post(url, body, format="json")

    assert response.status_code == 400
    assert message in messages(response)


def test_the_strategy_document_shows_the_services_rules(components) -> None:
    strategy = components["DialingStrategyRequest"]["properties"]
    for field, (low, high) in BOUNDS.items():
        assert (strategy[STRATEGY_KEYS[field]]["minimum"], strategy[STRATEGY_KEYS[field]]["maximum"]) == (
            low,
            high,
        )
    window = components["CallingWindowRequest"]["properties"]
    assert components[window["day"]["$ref"].rsplit("/", 1)[1]]["enum"] == list(WEEKDAYS)
    assert window["start"]["pattern"] == window["end"]["pattern"] == HHMM_PATTERN
    assert strategy["recipientEarliest"]["pattern"] == HHMM_PATTERN
    delays = components["RetryDelaysRequest"]["properties"]
    assert list(delays) == list(RETRY_OUTCOMES)
    assert {delay["maximum"] for delay in delays.values()} == {MAX_RETRY_DELAY}


@pytest.mark.parametrize("field", sorted(BOUNDS))
def test_a_setting_just_past_its_documented_bound_is_refused(field, api, campaign_body) -> None:
    high = BOUNDS[field][1]

    response = api.post(
        "/campaign", campaign_body(1, dialingStrategy={STRATEGY_KEYS[field]: high + 1}), format="json"
    )

    assert messages(response) == [
        f"dialingStrategy.{STRATEGY_KEYS[field]} must be an integer from {BOUNDS[field][0]} to {high}"
    ]


@pytest.mark.parametrize("text", ["09:00\n", "9:00", "24:00"])
def test_calling_hours_are_hh_mm_and_nothing_else(text, api, campaign_body) -> None:
    hours = [{"day": "mon", "start": text, "end": "17:00"}]

    response = api.post("/campaign", campaign_body(1, dialingStrategy={"callingHours": hours}), format="json")

    assert messages(response) == ["dialingStrategy.callingHours.0.start must be a time as HH:MM (24-hour)"]
    assert not Campaign.objects.exists()
