"""Every Campaign body we send validates against Vapi's own OpenAPI: the v1 reference's
(vapi-openapi-campaign.json) and the 2026-08 one (every campaign operation, v1 and v2), with
`$ref`s resolved into their components. No widening: a paused campaign reads in-progress."""

from __future__ import annotations

import re

import pytest

from campaigns import services
from campaigns.models import Campaign
from tests.api.conftest import load_fixture, without_call_servers

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
    created = api.post("/campaign", without_call_servers(load_fixture(name)), format="json").json()
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


# -- Vapi's 2026-08 document: every campaign operation, v1 and v2 ---------------------------------


@pytest.fixture
def states(api, create, create_v2, dial, owner) -> dict[str, str]:
    """Campaigns in every state a response can show, by name: their ids."""
    running = create(4, dialingStrategy={"respectRecipientTimeZone": False, "maxAttempts": 1})
    dial(
        Campaign.objects.get(pk=running["id"]),
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
    paused = create_v2(2, server={"url": "http://127.0.0.1:9/x"}, serverMessages=["campaign.started"])
    services.campaign_pause(
        campaign=services.campaign_start(campaign=Campaign.objects.get(pk=paused["id"]), by=owner), by=owner
    )
    cancelled = create_v2(1, predialPlan={"enabled": False}, server={"url": "http://127.0.0.1:9/x"})
    api.patch(f"/v2/campaign/{cancelled['id']}", {"status": "cancelled"}, format="json")
    archived = create_v2(1)
    api.delete(f"/v2/campaign/{archived['id']}")
    squad = create_v2(1, assistantId=None, squadId="squad-1", squadOverrides={"variableValues": {"a": 1}})
    return {
        "running": running["id"],
        "paused": paused["id"],
        "cancelled": cancelled["id"],
        "archived": archived["id"],
        "squad": squad["id"],
    }


def test_every_vapi_campaign_operation_answers_what_vapis_2026_document_declares(
    api, states, campaign_body, vapi_answer
) -> None:
    live = [states[k] for k in ("running", "paused", "cancelled", "squad")]
    calls = [
        ("post", "/campaign", "/campaign", campaign_body(2), 201),
        ("post", "/v2/campaign", "/v2/campaign", campaign_body(2), 201),
        *[("get", f"/campaign{q}", "/campaign", None, 200) for q in ("", "?status=archived", "?sortBy=cost")],
        *[
            ("get", f"/v2/campaign{q}", "/v2/campaign", None, 200)
            for q in ("?includeCounters=true", "?status=archived")
        ],
        *[("get", f"/campaign/{pk}", "/campaign/{id}", None, 200) for pk in live],
        *[("get", f"/v2/campaign/{pk}?includeCounters=true", "/v2/campaign/{id}", None, 200) for pk in live],
        *[("get", f"/v2/campaign/{pk}/contacts", "/v2/campaign/{id}/contacts", None, 200) for pk in live],
        ("patch", f"/campaign/{states['running']}", "/campaign/{id}", {"name": "Renamed"}, 200),
        ("patch", f"/v2/campaign/{states['paused']}", "/v2/campaign/{id}", {"status": "ended"}, 200),
        ("patch", f"/campaign/{states['running']}", "/campaign/{id}", {"status": "cancelled"}, 200),
        ("delete", f"/v2/campaign/{states['squad']}", "/v2/campaign/{id}", None, 200),
        ("delete", f"/campaign/{states['cancelled']}", "/campaign/{id}", None, 200),
    ]
    for method, path, operation, body, status in calls:
        response = getattr(api, method)(path, body, format="json") if body else getattr(api, method)(path)

        assert response.status_code == status, (method, path, response.json())
        assert not vapi_answer(method, operation, status, response.json()), (method, path)
        assert None not in response.json().values(), "unset optional fields are absent, not null"


@pytest.mark.parametrize("name", ["create-minimal.json", "create-full.json"])
def test_v2_creates_vapis_fixtures_as_v2_campaigns(name, api, fixture_numbers, vapi_answer) -> None:
    response = api.post("/v2/campaign", without_call_servers(load_fixture(name)), format="json")

    assert response.status_code == 201, response.json()
    assert not vapi_answer("post", "/v2/campaign", 201, response.json())


@pytest.mark.parametrize(
    ("name", "field"), [("create-dialplan.json", "dialPlan"), ("create-workflow.json", "workflowId")]
)
def test_v2_refuses_vapis_v1_only_fixtures(name, field, api, fixture_numbers) -> None:
    response = api.post("/v2/campaign", load_fixture(name), format="json")

    assert response.status_code == 400
    assert f"{field} is V1-only" in " ".join(response.json()["message"])
