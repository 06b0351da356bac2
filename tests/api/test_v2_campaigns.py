"""/v2/campaign: Vapi's v2 campaigns. Create with v2's rules (answers the full Campaign), list and
get summaries (counters on request), status-only PATCH, DELETE that archives (and our unarchive),
duplicateFromCampaignId. Every answer is checked against Vapi's 2026-08 OpenAPI."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import AuditEvent, Campaign, CampaignEvent
from tests.api.conftest import messages

SERVER = {"url": "http://127.0.0.1:9/hooks", "timeoutSeconds": 10}


def post(api, body):
    return api.post("/v2/campaign", body, format="json")


def test_create_answers_the_full_campaign_document_and_stores_a_v2_campaign(
    api, campaign_body, vapi_answer
) -> None:
    body = campaign_body(
        2,
        maxConcurrency=5,
        assistantOverrides={"variableValues": {"company": "TechFlow"}},
        server=SERVER,
        serverMessages=["campaign.started", "contact.completed"],
        predialPlan={"enabled": True},
    )

    response = post(api, body)

    assert response.status_code == 201, response.json()
    created = response.json()
    assert not vapi_answer("post", "/v2/campaign", 201, created)
    assert created["status"] == "scheduled"
    assert created["calls"] == {}
    assert created["callsCounterEnded"] == 0
    assert created["maxConcurrency"] == 5
    assert created["assistantOverrides"] == {"variableValues": {"company": "TechFlow"}}
    assert created["server"] == SERVER
    assert created["serverMessages"] == ["campaign.started", "contact.completed"]
    assert created["predialPlan"] == {"enabled": True}
    assert [c["number"] for c in created["customers"]] == ["+14155550000", "+14155550001"]
    assert Campaign.objects.get(pk=created["id"]).api_version == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"workflowId": "wf-1"},
            "workflowId is V1-only: /v2/campaign takes one of assistantId or squadId and one "
            "phoneNumberId (create it with POST /campaign)",
        ),
        (
            {"squadId": "squad-1"},
            "squadId must not be set together with assistantId (only one of assistantId or squadId)",
        ),
        ({"assistantId": None}, "assistantId should not be empty: set one of assistantId or squadId"),
        ({"phoneNumberId": None}, "phoneNumberId should not be empty"),
        ({"customers": None}, "customers should not be empty"),
        ({"maxConcurrency": 0}, "maxConcurrency must not be less than 1"),
        ({"maxConcurrency": 2.5}, "maxConcurrency must be an integer number"),
    ],
)
def test_v2_rules_are_refused_naming_the_field(change, message, api, campaign_body) -> None:
    body = {k: v for k, v in {**campaign_body(1), **change}.items() if v is not None}

    response = post(api, body)

    assert response.status_code == 400
    assert messages(response) == [message]
    assert not Campaign.objects.exists()


def test_a_dial_plan_is_v1_only(api, campaign_body, fixture_numbers) -> None:
    body = campaign_body(1)
    plan = [{"phoneNumberId": body.pop("phoneNumberId"), "customers": body.pop("customers")}]

    response = post(api, {**body, "dialPlan": plan})

    assert response.status_code == 400
    assert messages(response) == [
        "dialPlan is V1-only: /v2/campaign takes one of assistantId or squadId and one phoneNumberId "
        "(create it with POST /campaign)",
        "phoneNumberId should not be empty",
        "customers should not be empty",
    ]


def test_a_squad_campaign_takes_squad_overrides_for_everyone_and_per_customer(
    api, campaign_body, vapi_answer
) -> None:
    body = campaign_body(1, squadOverrides={"variableValues": {"tier": "gold"}})
    body.pop("assistantId")
    body["squadId"] = "squad-1"
    body["customers"][0]["squadOverrides"] = {"variableValues": {"first": "Ana"}}

    created = post(api, body).json()

    assert not vapi_answer("post", "/v2/campaign", 201, created)
    assert created["squadId"] == "squad-1"
    assert created["squadOverrides"] == {"variableValues": {"tier": "gold"}}
    assert created["customers"][0]["squadOverrides"] == {"variableValues": {"first": "Ana"}}


def test_more_than_10000_customers_are_refused(api, campaign_body) -> None:
    response = post(api, campaign_body(10_001))

    assert response.status_code == 400
    assert messages(response) == ["customers must contain no more than 10000 elements"]


def test_the_list_answers_summaries_with_counters_on_request(api, create_v2, vapi_answer) -> None:
    first, second = create_v2(2, name="First"), create_v2(3, name="Second")

    plain = api.get("/v2/campaign").json()
    counted = api.get("/v2/campaign?includeCounters=true").json()

    for body in (plain, counted):
        assert not vapi_answer("get", "/v2/campaign", 200, body)
    assert [c["name"] for c in plain["results"]] == ["Second", "First"]
    assert all("customers" not in c and "calls" not in c for c in plain["results"])
    assert all("contactCounters" not in c and "callMetrics" not in c for c in plain["results"])
    assert [c["contactCounters"] for c in counted["results"]] == [
        {"pending": 3, "dispatched": 0, "completed": 0, "failed": 0, "skipped": 0, "predialFailed": 0},
        {"pending": 2, "dispatched": 0, "completed": 0, "failed": 0, "skipped": 0, "predialFailed": 0},
    ]
    assert counted["results"][0]["callMetrics"] == {"dialed": 0, "connected": 0}
    assert {first["id"], second["id"]} == {c["id"] for c in counted["results"]}


def test_the_summary_counts_contacts_and_calls_from_the_stored_counters(
    api, create_v2, dial, vapi_answer, django_assert_max_num_queries
) -> None:
    body = create_v2(4, dialingStrategy={"respectRecipientTimeZone": False, "maxAttempts": 1})
    dial(
        Campaign.objects.get(pk=body["id"]),
        {
            0: [("in-progress", "", None), ("ended", "customer-ended-call", None)],
            1: [("ringing", "", None), ("ended", "voicemail", None)],
        },
    )

    with django_assert_max_num_queries(8):  # key, last use, rate count, the campaign: no count of rows
        summary = api.get(f"/v2/campaign/{body['id']}?includeCounters=true").json()

    assert not vapi_answer("get", "/v2/campaign/{id}", 200, summary)
    assert summary["status"] == "in-progress"
    assert summary["contactCounters"] == {
        "pending": 0,
        "dispatched": 2,
        "completed": 2,
        "failed": 0,
        "skipped": 0,
        "predialFailed": 0,
    }
    # Voicemail is dialed but not connected: the pick-up rate excludes it.
    assert summary["callMetrics"] == {"dialed": 2, "connected": 1}
    assert "contactCounters" not in api.get(f"/v2/campaign/{body['id']}").json()


def test_include_counters_is_a_boolean(api, create_v2) -> None:
    body = create_v2(1)

    for path in (f"/v2/campaign/{body['id']}?includeCounters=yes", "/v2/campaign?includeCounters=1"):
        response = api.get(path)
        assert response.status_code == 400
        assert messages(response) == ["includeCounters must be a boolean value"]
    assert api.get(f"/v2/campaign/{body['id']}?includeCounters=TRUE").json()["contactCounters"]


def test_a_paused_campaign_reads_in_progress_with_our_paused_flag(api, create_v2, owner, vapi_answer) -> None:
    body = create_v2(1)
    campaign = services.campaign_start(campaign=Campaign.objects.get(pk=body["id"]), by=owner)
    campaign = services.campaign_pause(campaign=campaign, by=owner)

    summary = api.get(f"/v2/campaign/{body['id']}").json()
    listed = api.get("/v2/campaign?status=paused").json()

    assert not vapi_answer("get", "/v2/campaign/{id}", 200, summary)
    assert (summary["status"], summary["paused"]) == ("in-progress", True)
    assert summary["pausedAt"].endswith("Z")
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert [c["id"] for c in api.get("/v2/campaign?status=in-progress").json()["results"]] == [body["id"]]


@pytest.mark.parametrize("value", ["cancelled", "ended"])
@pytest.mark.parametrize("start", ["scheduled", "in-progress", "paused"])
def test_patch_cancels_an_active_campaign(value, start, api, create_v2, owner, vapi_answer) -> None:
    body = create_v2(2)
    campaign = Campaign.objects.get(pk=body["id"])
    if start != "scheduled":
        campaign = services.campaign_start(campaign=campaign, by=owner)
    if start == "paused":
        services.campaign_pause(campaign=campaign, by=owner)

    response = api.patch(f"/v2/campaign/{body['id']}", {"status": value}, format="json")

    assert response.status_code == 200, response.json()
    assert not vapi_answer("patch", "/v2/campaign/{id}", 200, response.json())
    # "ended" is v1's alias: in v2 both cancel.
    assert response.json()["status"] == "cancelled"
    reason = "scheduled" if start == "scheduled" else "in-progress"
    assert response.json()["endedReason"] == f"campaign.{reason}.ended-by-user"
    assert Campaign.objects.get(pk=body["id"]).status == "cancelled"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            {"name": "Renamed", "status": "cancelled"},
            [
                "name cannot be updated through /v2/campaign: v2 updates are status-only "
                "(cancelled, or its alias ended)"
            ],
        ),
        (
            {"schedulePlan": {"earliestAt": "2027-01-01T00:00:00Z"}},
            [
                "schedulePlan cannot be updated through /v2/campaign: v2 updates are status-only "
                "(cancelled, or its alias ended)",
                "status should not be empty",
            ],
        ),
        ({"maxConcurrency": 3}, ["property maxConcurrency should not exist", "status should not be empty"]),
        ({"status": "in-progress"}, ["status must be one of the following values: ended, cancelled"]),
        ({}, ["status should not be empty"]),
    ],
)
def test_patch_is_status_only(patch, expected, api, create_v2) -> None:
    body = create_v2(1)

    response = api.patch(f"/v2/campaign/{body['id']}", patch, format="json")

    assert response.status_code == 400
    assert messages(response) == expected
    assert Campaign.objects.get(pk=body["id"]).status == "scheduled"
    assert Campaign.objects.get(pk=body["id"]).name == body["name"]


def test_patch_refuses_a_campaign_that_is_no_longer_active(api, create_v2) -> None:
    body = create_v2(1)
    api.patch(f"/v2/campaign/{body['id']}", {"status": "cancelled"}, format="json")

    response = api.patch(f"/v2/campaign/{body['id']}", {"status": "cancelled"}, format="json")

    assert response.status_code == 400
    assert messages(response) == [
        "status cannot be set to cancelled: only an active campaign can be cancelled (it is cancelled)"
    ]


def test_a_v2_campaign_is_immutable_through_v1_patch_too(api, create_v2) -> None:
    body = create_v2(1)

    response = api.patch(f"/campaign/{body['id']}", {"name": "Renamed", "maxConcurrency": 2}, format="json")

    assert response.status_code == 400
    assert messages(response) == [
        "name cannot be updated: campaigns created through /v2/campaign are immutable "
        "(only status can be set)",
        "dialingStrategy cannot be updated: campaigns created through /v2/campaign are immutable "
        "(only status can be set)",
    ]
    assert api.patch(f"/campaign/{body['id']}", {"status": "cancelled"}, format="json").status_code == 200


@pytest.mark.parametrize("start", ["scheduled", "in-progress", "ended"])
def test_delete_archives_keeps_the_records_and_hides_the_campaign(
    start, api, create_v2, owner, vapi_answer
) -> None:
    body = create_v2(2)
    campaign = Campaign.objects.get(pk=body["id"])
    if start == "in-progress":
        services.campaign_start(campaign=campaign, by=owner)
    if start == "ended":
        services.campaign_end(campaign=campaign, by=owner)

    response = api.delete(f"/v2/campaign/{body['id']}")

    assert response.status_code == 200
    archived = response.json()
    assert not vapi_answer("delete", "/v2/campaign/{id}", 200, archived)
    assert archived["status"] == "archived"
    assert len(archived["customers"]) == 2
    for path in (
        f"/v2/campaign/{body['id']}",
        f"/campaign/{body['id']}",
        f"/v2/campaign/{body['id']}/contacts",
    ):
        assert api.get(path).status_code == 404, path
    assert api.delete(f"/v2/campaign/{body['id']}").status_code == 404
    assert api.get("/v2/campaign").json()["results"] == []
    assert [c["id"] for c in api.get("/v2/campaign?status=archived").json()["results"]] == [body["id"]]
    stored = Campaign.objects.get(pk=body["id"])
    assert (stored.status, stored.deleted_at, stored.customers.count()) == ("archived", None, 2)
    expected = "ended" if start == "ended" else "cancelled"
    assert stored.status_before_archive == expected
    assert AuditEvent.objects.filter(action="campaign.archive", target_id=str(stored.pk)).exists()


def test_unarchive_brings_it_back_with_the_status_it_had(api, create_v2) -> None:
    body = create_v2(1, server=SERVER, serverMessages=["campaign.archived", "campaign.unarchived"])
    api.delete(f"/v2/campaign/{body['id']}")

    response = api.post(f"/v2/campaign/{body['id']}/unarchive")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert api.get(f"/v2/campaign/{body['id']}").json()["status"] == "cancelled"
    events = CampaignEvent.objects.filter(campaign_id=body["id"]).order_by("created_at")
    assert list(events.values_list("event_type", flat=True)) == ["campaign.archived", "campaign.unarchived"]
    again = api.post(f"/v2/campaign/{body['id']}/unarchive")
    assert again.status_code == 409
    assert again.json()["status"] == "cancelled"
    assert messages(again) == ["cannot unarchive a campaign that is cancelled"]


def test_duplicate_copies_what_the_body_does_not_give(api, create_v2, vapi_answer) -> None:
    source = create_v2(
        2,
        maxConcurrency=4,
        assistantOverrides={"variableValues": {"company": "TechFlow"}},
        server=SERVER,
        serverMessages=["contact.completed"],
        predialPlan={"enabled": False},
        dialingStrategy={"maxAttempts": 2},
    )

    response = post(api, {"name": "Again", "duplicateFromCampaignId": source["id"], "maxConcurrency": 7})

    assert response.status_code == 201, response.json()
    copy = response.json()
    assert not vapi_answer("post", "/v2/campaign", 201, copy)
    assert copy["id"] != source["id"] and copy["name"] == "Again"
    for key in (
        "assistantId",
        "phoneNumberId",
        "assistantOverrides",
        "server",
        "serverMessages",
        "predialPlan",
    ):
        assert copy[key] == source[key], key
    assert copy["customers"] == source["customers"]
    assert copy["status"] == "scheduled"
    # The body's maxConcurrency over the source's strategy, which it keeps otherwise.
    assert (copy["maxConcurrency"], copy["dialingStrategy"]["maxAttempts"]) == (7, 2)
    assert Campaign.objects.get(pk=copy["id"]).duplicated_from_id is not None


def test_duplicate_with_customers_replaces_the_copied_ones(api, create_v2) -> None:
    source = create_v2(3)

    copy = post(
        api,
        {"name": "Again", "duplicateFromCampaignId": source["id"], "customers": [{"number": "+14155550999"}]},
    ).json()

    assert copy["customers"] == [{"number": "+14155550999"}]


def test_duplicating_an_unknown_campaign_answers_404_in_the_envelope(api, other_api, create_v2) -> None:
    theirs = other_api.post(
        "/v2/campaign", {"name": "x", "duplicateFromCampaignId": create_v2(1)["id"]}, format="json"
    )
    missing = post(api, {"name": "x", "duplicateFromCampaignId": "6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11"})

    for response in (theirs, missing):
        assert response.status_code == 404
        assert response.json()["error"] == "Not Found"
        assert "(duplicateFromCampaignId)" in messages(response)[0]
    assert Campaign.objects.count() == 1


def test_v2_duplicates_only_v2_campaigns(api, create) -> None:
    source = create(1)

    response = post(api, {"name": "x", "duplicateFromCampaignId": source["id"]})

    assert response.status_code == 400
    assert messages(response) == [
        "duplicateFromCampaignId must name a campaign created through /v2/campaign (Vapi duplicates v2 "
        "campaigns only)"
    ]
