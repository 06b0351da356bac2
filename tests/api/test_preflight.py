"""GET /campaign/{id}/preflight over HTTP: who the campaign could call under its settings, who never
and why, who is skipped, who has no local caller ID, and an estimate; documented in the OpenAPI."""

from __future__ import annotations

import pytest

from campaigns.models import PhoneNumber

pytestmark = pytest.mark.django_db

EVERY_DAY = [
    {"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
]


@pytest.fixture
def campaign(api, org, caller_id, provider) -> dict:
    local = PhoneNumber.objects.create(organization=org, provider_account=provider, number="+12125550199")
    assert api.post("/dnc", {"number": "+12125550003"}, format="json").status_code == 201
    body = {
        "name": "Office hours",
        "assistantId": "asst-1",
        "phoneNumberId": str(caller_id.pk),
        "customers": [{"number": f"+1212555000{i}"} for i in range(4)]
        + [{"number": f"+8131234567{i}"} for i in range(2)],
        "dialingStrategy": {"timeZone": "America/New_York", "callingHours": EVERY_DAY},
        "callerIdPool": {"phoneNumberIds": [str(local.pk)], "mode": "local-presence"},
    }
    created = api.post("/campaign", body, format="json")
    assert created.status_code == 201, created.json()
    return created.json()


def test_the_preflight_counts_who_can_be_called_who_never_and_why(api, campaign) -> None:
    found = api.get(f"/campaign/{campaign['id']}/preflight")

    assert found.status_code == 200, found.json()
    data = found.json()
    # New York callees fit 09:00-17:00 New York now or later; Tokyo's 08:00-21:00 never meets it.
    assert data["pending"] == 5
    assert data["callableNow"] + data["callableLater"] == 3
    assert data["held"] == {"no_common_hours": 2}
    assert data["skipped"] == {"do_not_call": 1}
    assert data["withoutLocalCallerId"] == 2  # the pool's local number is in New York
    assert "estimatedFinishAt" in data and "3 first calls" in data["estimate"]
    assert data["problems"][0].startswith("2 of 5 customers can never be called under these settings")


def test_another_organizations_campaign_is_not_found(other_api, campaign) -> None:
    assert other_api.get(f"/campaign/{campaign['id']}/preflight").status_code == 404


def test_the_preflight_is_documented(api) -> None:
    schema = api.get("/api/schema", {"format": "json"}).json()
    operation = schema["paths"]["/campaign/{id}/preflight"]["get"]
    assert operation["operationId"] == "CampaignPreflightController_findOne"
    assert "callableNow" in schema["components"]["schemas"]["CampaignPreflight"]["properties"]
