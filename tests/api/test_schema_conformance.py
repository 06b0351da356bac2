"""Every Campaign body we send validates against Vapi's own OpenAPI (vapi-openapi-campaign.json),
with `$ref`s resolved into its components. Our one documented widening: status `paused`."""

from __future__ import annotations

import re

import pytest

from campaigns import services
from campaigns.models import Campaign
from tests.api.conftest import load_fixture

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_vapi_campaign(vapi_schema, body: dict) -> None:
    errors = sorted(vapi_schema("Campaign").iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert None not in body.values(), "unset optional fields must be absent, not null"
    for key in ("createdAt", "updatedAt"):
        assert STAMP.match(body[key]), body[key]
    for key in ("earliestAt", "latestAt"):
        if key in body.get("schedulePlan", {}):
            assert STAMP.match(body["schedulePlan"][key])


@pytest.mark.parametrize(
    "name", ["create-minimal.json", "create-full.json", "create-dialplan.json", "create-workflow.json"]
)
def test_create_get_patch_and_delete_bodies_follow_vapis_campaign_schema(
    name, api, fixture_numbers, vapi_schema
):
    created = api.post("/campaign", load_fixture(name), format="json").json()
    assert_vapi_campaign(vapi_schema, created)

    fetched = api.get(f"/campaign/{created['id']}").json()
    assert_vapi_campaign(vapi_schema, fetched)
    assert fetched == created

    renamed = api.patch(f"/campaign/{created['id']}", {"name": "Renamed"}, format="json").json()
    assert_vapi_campaign(vapi_schema, renamed)

    deleted = api.delete(f"/campaign/{created['id']}").json()
    assert_vapi_campaign(vapi_schema, deleted)
    assert deleted["status"] == "ended"


def test_the_list_body_follows_vapis_paginated_schema(api, create, vapi_schema) -> None:
    create()
    create(name="Second")

    body = api.get("/campaign").json()

    assert not list(vapi_schema("CampaignPaginatedResponse").iter_errors(body))
    for item in body["results"]:
        assert_vapi_campaign(vapi_schema, item)


def test_a_running_campaign_with_calls_follows_the_schema(api, create, dial, vapi_schema) -> None:
    created = create(4, dialingStrategy={"respectRecipientTimeZone": False})
    dial(
        Campaign.objects.get(pk=created["id"]),
        {
            0: [
                ("ringing", "", None),
                ("in-progress", "", None),
                ("ended", "customer-ended-call", {"summary": "ok"}),
            ],
            1: [("in-progress", "", None), ("ended", "voicemail", None)],
            2: [("ringing", "", None)],
        },
    )

    body = api.get(f"/campaign/{created['id']}").json()

    assert_vapi_campaign(vapi_schema, body)
    assert body["status"] == "in-progress"
    assert len(body["calls"]) == 4
    assert body["callsCounterEnded"] == 2
    assert body["callsCounterEndedVoicemail"] == 1
    assert body["callsCounterInProgress"] == 1
    assert body["callsCounterQueued"] == 1
    for call_id, entry in body["calls"].items():
        assert entry["id"] == call_id
        assert None not in entry.values()
        for key in ("startedAt", "endedAt"):
            if key in entry:
                assert STAMP.match(entry[key])
    ended = [e for e in body["calls"].values() if e["status"] == "ended"]
    assert {e["endedReason"] for e in ended} == {"customer-ended-call", "voicemail"}


@pytest.mark.parametrize("action", ["start", "pause", "resume", "end"])
def test_lifecycle_bodies_follow_the_schema_paused_included(action, api, create, owner, vapi_schema) -> None:
    campaign = Campaign.objects.get(pk=create()["id"])
    if action in ("pause", "resume"):
        campaign = services.campaign_start(campaign=campaign, by=owner)
    if action == "resume":
        services.campaign_pause(campaign=campaign, by=owner)

    response = api.post(f"/campaign/{campaign.pk}/{action}")

    assert response.status_code == 202
    assert_vapi_campaign(vapi_schema, response.json())


def test_error_bodies_have_the_envelope_of_the_error_fixture(api) -> None:
    shape = load_fixture("error-400-example.json")

    for response in (
        api.post("/campaign", {"name": 5}, format="json"),
        api.get("/campaign/6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11"),
        api.put("/campaign", {}, format="json"),
    ):
        body = response.json()
        assert set(body) == set(shape)
        assert isinstance(body["message"], list)
        assert all(isinstance(m, str) for m in body["message"])
        assert body["statusCode"] == response.status_code
