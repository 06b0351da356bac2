"""Two organizations, every endpoint and method: nothing crosses. Another organization's ids
answer 404 (never 403, never data); no key or a revoked key answers 401."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import ApiKey, Campaign, DoNotCall, PhoneNumber
from tests.api.conftest import messages

# (method, path template, JSON body) for every operation on one of our objects.
OBJECT_OPERATIONS = [
    ("get", "/campaign/{campaign}", None),
    ("patch", "/campaign/{campaign}", {"name": "Stolen"}),
    ("patch", "/campaign/{campaign}", {"status": "ended"}),
    ("delete", "/campaign/{campaign}", None),
    ("post", "/campaign/{campaign}/start", None),
    ("post", "/campaign/{campaign}/pause", None),
    ("post", "/campaign/{campaign}/resume", None),
    ("post", "/campaign/{campaign}/end", None),
    ("get", "/campaign/{campaign}/customers", None),
    ("post", "/campaign/{campaign}/customers", [{"number": "+14155559999"}]),
    ("get", "/campaign/{campaign}/calls", None),
    ("get", "/v2/campaign/{campaign}", None),
    ("patch", "/v2/campaign/{campaign}", {"status": "cancelled"}),
    ("delete", "/v2/campaign/{campaign}", None),
    ("get", "/v2/campaign/{campaign}/contacts", None),
    ("post", "/v2/campaign/{campaign}/unarchive", None),
    ("get", "/phone-number/{phone}", None),
    ("delete", "/phone-number/{phone}", None),
    ("delete", "/dnc/{dnc}", None),
]
COLLECTION_OPERATIONS = [
    ("get", "/campaign", None),
    ("post", "/campaign", {"name": "x"}),
    ("get", "/v2/campaign", None),
    ("post", "/v2/campaign", {"name": "x"}),
    ("get", "/phone-number", None),
    ("get", "/v2/phone-number", None),
    ("post", "/phone-number", {"number": "+14155550000"}),
    ("get", "/dnc", None),
    ("post", "/dnc", {"number": "+14155550000"}),
]


@pytest.fixture
def ours(create, org, owner, caller_id) -> dict[str, str]:
    campaign = create()
    spare = services.phone_number_create(
        organization=org, by=owner, number="+14155550177", provider_account=caller_id.provider_account
    )
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550188", "")])
    return {
        "campaign": campaign["id"],
        "phone": str(spare.pk),
        "dnc": str(DoNotCall.objects.get(organization=org).pk),
    }


def call(client, method: str, path: str, body):
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


def snapshot(org) -> tuple:
    return (
        list(Campaign.objects.values_list("name", "status", "deleted_at", "customers_total")),
        list(PhoneNumber.objects.filter(organization=org).values_list("number", "deleted_at")),
        list(DoNotCall.objects.values_list("number", flat=True)),
    )


@pytest.mark.parametrize(
    ("method", "path", "body"), OBJECT_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OBJECT_OPERATIONS]
)
def test_another_organizations_key_gets_404_for_our_objects(method, path, body, other_api, ours, org) -> None:
    before = snapshot(org)

    response = call(other_api, method, path.format(**ours), body)

    assert response.status_code == 404, response.json()
    assert response.json()["error"] == "Not Found"
    assert ours["campaign"] not in response.content.decode()
    assert snapshot(org) == before


@pytest.mark.parametrize(
    ("method", "path", "body"), OBJECT_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OBJECT_OPERATIONS]
)
def test_our_own_key_reaches_the_same_operations(method, path, body, api, ours) -> None:
    response = call(api, method, path.format(**ours), body)

    assert response.status_code != 404, response.json()


def test_another_organization_lists_none_of_our_objects(other_api, ours) -> None:
    for path in ("/campaign", "/v2/campaign", "/v2/phone-number", "/dnc"):
        body = other_api.get(path).json()
        assert body["results"] == [], path
        assert body["metadata"]["totalItems"] == 0
    assert other_api.get("/phone-number").json() == []  # Vapi's bare array


def test_another_organization_cannot_use_our_caller_id(other_api, ours, campaign_body) -> None:
    response = other_api.post("/campaign", campaign_body(phoneNumberId=ours["phone"]), format="json")

    assert response.status_code == 400
    assert messages(response) == ["phoneNumberId does not name a phone number of this organization"]


def test_another_organization_cannot_use_our_caller_id_in_a_dial_plan(other_api, ours) -> None:
    body = {
        "name": "x",
        "assistantId": "a",
        "dialPlan": [{"phoneNumberId": ours["phone"], "customers": [{"number": "+14155550123"}]}],
    }

    response = other_api.post("/campaign", body, format="json")

    assert response.status_code == 400
    assert messages(response) == [
        "dialPlan.0.phoneNumberId does not name a phone number of this organization"
    ]


def test_another_organization_cannot_register_a_number_on_our_provider_account(
    other_api, ours, provider
) -> None:
    response = other_api.post(
        "/phone-number", {"number": "+14155550166", "providerAccountId": str(provider.pk)}, format="json"
    )

    assert response.status_code == 400
    assert messages(response) == ["providerAccountId does not name a provider account of this organization"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    OBJECT_OPERATIONS + COLLECTION_OPERATIONS,
    ids=[f"{m} {p}" for m, p, _ in OBJECT_OPERATIONS + COLLECTION_OPERATIONS],
)
def test_no_key_answers_401_everywhere(method, path, body, anonymous, ours) -> None:
    response = call(anonymous, method, path.format(**ours), body)

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    OBJECT_OPERATIONS + COLLECTION_OPERATIONS,
    ids=[f"{m} {p}" for m, p, _ in OBJECT_OPERATIONS + COLLECTION_OPERATIONS],
)
def test_a_revoked_key_answers_401_everywhere(method, path, body, api, ours, owner) -> None:
    for key in ApiKey.objects.all():
        services.api_key_revoke(key=key, by=owner)

    response = call(api, method, path.format(**ours), body)

    assert response.status_code == 401
    assert messages(response) == ["Invalid API key"]
