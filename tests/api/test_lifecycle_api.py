"""The lifecycle over HTTP: start/pause/resume/end answer 202 or 409 with the current status;
PATCH status ended ends with the right endedReason; DELETE returns the document and hides it."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Campaign, Customer
from tests.api.conftest import messages

PATHS = {
    "scheduled": [],
    "in-progress": [services.campaign_start],
    "paused": [services.campaign_start, services.campaign_pause],
    "ended": [services.campaign_end],
}
# (status before, action) -> status after, or None when refused with 409.
TABLE = {
    ("scheduled", "start"): "in-progress",
    ("scheduled", "pause"): None,
    ("scheduled", "resume"): None,
    ("scheduled", "end"): "ended",
    ("in-progress", "start"): None,
    ("in-progress", "pause"): "paused",
    ("in-progress", "resume"): None,
    ("in-progress", "end"): "ended",
    ("paused", "start"): None,
    ("paused", "pause"): None,
    ("paused", "resume"): "in-progress",
    ("paused", "end"): "ended",
    ("ended", "start"): None,
    ("ended", "pause"): None,
    ("ended", "resume"): None,
    ("ended", "end"): None,
}
# How Vapi's clients read our statuses.
VAPI_STATUS = {"paused": "in-progress"}
ENDED_REASON = {
    "scheduled": "campaign.scheduled.ended-by-user",
    "in-progress": "campaign.in-progress.ended-by-user",
    "paused": "campaign.in-progress.ended-by-user",
}


@pytest.fixture
def campaign_in(create, owner):
    def make(status: str) -> Campaign:
        campaign = Campaign.objects.get(pk=create()["id"])
        for step in PATHS[status]:
            campaign = step(campaign=campaign, by=owner)
        assert campaign.status == status
        return campaign

    return make


@pytest.mark.parametrize(("start", "action"), list(TABLE), ids=[f"{s}-{a}" for s, a in TABLE])
def test_lifecycle_endpoint(start, action, api, campaign_in) -> None:
    campaign = campaign_in(start)

    response = api.post(f"/campaign/{campaign.pk}/{action}")

    expected = TABLE[start, action]
    if expected is None:
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "Conflict"
        assert body["status"] == start
        assert body["message"] == [f"cannot {action} a campaign that is {start}"]
        assert Campaign.objects.get(pk=campaign.pk).status == start
    else:
        assert response.status_code == 202
        # Vapi's clients see a paused campaign as in-progress, with our `paused` flag beside it.
        assert response.json()["status"] == VAPI_STATUS.get(expected, expected)
        assert response.json().get("paused", False) == (expected == "paused")
        assert Campaign.objects.get(pk=campaign.pk).status == expected
        if expected == "ended":
            assert response.json()["endedReason"] == ENDED_REASON[start]


@pytest.mark.parametrize("start", ["scheduled", "in-progress", "paused"])
@pytest.mark.parametrize("value", ["ended", "cancelled"])
def test_patch_status_ended_gives_the_ended_reason_of_the_state(start, value, api, campaign_in) -> None:
    """Vapi 2026: PATCH status "cancelled" reads cancelled from then on, "ended" (v1's) ended."""
    campaign = campaign_in(start)

    response = api.patch(f"/campaign/{campaign.pk}", {"status": value}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == value
    assert response.json()["endedReason"] == ENDED_REASON[start]
    assert set(Customer.objects.filter(campaign=campaign).values_list("state", flat=True)) == {"cancelled"}


def test_patch_ended_on_an_ended_campaign_is_refused_clearly(api, campaign_in) -> None:
    campaign = campaign_in("ended")

    response = api.patch(f"/campaign/{campaign.pk}", {"status": "ended"}, format="json")

    assert response.status_code == 400
    assert messages(response) == ["status cannot be set to ended: the campaign is ended"]


def test_a_ruby_sdk_update_with_name_and_status_ended_renames_and_ends(api, campaign_in) -> None:
    campaign = campaign_in("in-progress")

    response = api.patch(f"/campaign/{campaign.pk}", {"name": "Wrapped up", "status": "ended"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Wrapped up"
    assert response.json()["status"] == "ended"


@pytest.mark.parametrize("start", ["in-progress", "paused", "ended"])
def test_the_name_changes_in_any_state(start, api, campaign_in) -> None:
    campaign = campaign_in(start)

    response = api.patch(f"/campaign/{campaign.pk}", {"name": "New name"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "New name"
    assert response.json()["status"] == VAPI_STATUS.get(start, start)


@pytest.mark.parametrize(
    "body",
    [
        {"assistantId": "another"},
        {"workflowId": "wf"},
        {"phoneNumberId": "b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d4e"},
        {"schedulePlan": {"earliestAt": "2027-01-01T00:00:00Z"}},
    ],
)
@pytest.mark.parametrize("start", ["in-progress", "paused", "ended"])
def test_target_number_and_schedule_change_only_while_scheduled(start, body, api, campaign_in) -> None:
    campaign = campaign_in(start)

    response = api.patch(f"/campaign/{campaign.pk}", body, format="json")

    assert response.status_code == 400
    assert any(f"while the campaign is scheduled (it is {start})" in m for m in messages(response))


@pytest.mark.parametrize("start", ["scheduled", "in-progress", "paused", "ended"])
def test_delete_returns_the_document_ends_a_running_campaign_and_hides_it(start, api, campaign_in) -> None:
    campaign = campaign_in(start)

    response = api.delete(f"/campaign/{campaign.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(campaign.pk)
    assert body["status"] == "ended"
    assert body["endedReason"] == ENDED_REASON.get(start, "campaign.scheduled.ended-by-user")
    assert len(body["customers"]) == 3
    assert api.get(f"/campaign/{campaign.pk}").status_code == 404
    assert api.delete(f"/campaign/{campaign.pk}").status_code == 404
    assert api.post(f"/campaign/{campaign.pk}/start").status_code == 404
    assert all(c["id"] != str(campaign.pk) for c in api.get("/campaign").json()["results"])
    assert Campaign.objects.filter(pk=campaign.pk, deleted_at__isnull=False).exists()  # soft delete


def test_an_unknown_or_malformed_id_answers_404_in_the_envelope(api) -> None:
    for path in ("/campaign/6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11", "/campaign/nope", "/campaign/nope/start"):
        response = api.get(path) if path.count("/") == 2 else api.post(path)
        assert response.status_code == 404
        assert response.json() == {"message": ["campaign not found"], "error": "Not Found", "statusCode": 404}
