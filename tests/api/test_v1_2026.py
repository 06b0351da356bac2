"""Vapi 2026 on the v1 paths (/campaign): the campaign-level settings on create and read, the
customers' squadOverrides, overrides that would take the call's messages away refused, values
kept within Vapi's schema (paused reads in-progress; campaigns beyond 10,000 customers listed
truncated, with a marker), duplicateFromCampaignId. Answers checked against Vapi's 2026-08 OpenAPI."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Call, Campaign, Customer
from tests.api.conftest import load_fixture, messages

SERVER = {
    "url": "http://127.0.0.1:9/campaign-events",
    "timeoutSeconds": 20,
    "headers": {"Authorization": "Bearer theirs"},
    "backoffPlan": {
        "type": "exponential",
        "maxRetries": 3,
        "baseDelaySeconds": 1.5,
        "excludedStatusCodes": [400],
    },
}
REFUSAL = (
    "cannot be set for a campaign's calls: Dialdeck receives each call's status messages to run the "
    "campaign, and Vapi sends a call's messages to one server only. To receive campaign events, set the "
    "campaign's `server` and `serverMessages`"
)


def post(api, body):
    return api.post("/campaign", body, format="json")


def test_create_takes_the_2026_settings_and_every_read_shows_them(api, campaign_body, vapi_answer) -> None:
    body = campaign_body(
        1,
        maxConcurrency=4,
        assistantOverrides={"variableValues": {"company": "TechFlow"}, "firstMessage": "Hi {{name}}"},
        squadOverrides={"variableValues": {"unused": True}},
        server=SERVER,
        serverMessages=["campaign.started", "contact.completed"],
        predialPlan={},
    )
    body["customers"][0]["squadOverrides"] = {"variableValues": {"first": "Ana"}}

    created = post(api, body)

    assert created.status_code == 201, created.json()
    document = created.json()
    assert not vapi_answer("post", "/campaign", 201, document)
    fetched = api.get(f"/campaign/{document['id']}").json()
    assert fetched == document
    assert not vapi_answer("get", "/campaign/{id}", 200, fetched)
    for key in ("assistantOverrides", "squadOverrides", "server", "serverMessages", "predialPlan"):
        assert document[key] == body[key], key
    assert document["maxConcurrency"] == 4
    assert document["customers"][0]["squadOverrides"] == {"variableValues": {"first": "Ana"}}
    listed = api.get("/campaign").json()
    assert not vapi_answer("get", "/campaign", 200, listed)
    assert listed["results"][0]["server"] == SERVER


def test_a_campaign_without_them_leaves_them_out(api, create) -> None:
    document = create(1)

    assert not {"assistantOverrides", "squadOverrides", "server", "serverMessages", "predialPlan"} & set(
        document
    )
    assert document["maxConcurrency"] == 10  # Vapi's documented default


def test_vapis_full_fixture_is_taken_with_its_customers_own_server_messages(api, fixture_numbers) -> None:
    """A customer's own serverMessages (no server of its own) is stored and read back as sent:
    the provider adds the two Dialdeck needs when it places the call (test_vapi_provider)."""
    body = load_fixture("create-full.json")

    response = post(api, body)

    assert response.status_code == 201, response.json()
    stored = Customer.objects.get(campaign_id=response.json()["id"], position=0)
    expected = body["customers"][0]["assistantOverrides"]["serverMessages"]
    assert stored.assistant_overrides["serverMessages"] == expected


@pytest.mark.parametrize(
    ("where", "overrides", "field"),
    [
        (
            "campaign",
            {"assistantOverrides": {"server": {"url": "https://x.example"}}},
            "assistantOverrides.server",
        ),
        (
            "campaign",
            {"squadOverrides": {"server": {"url": "https://x.example"}}},
            "squadOverrides.server",
        ),
        (
            "customer",
            {"assistantOverrides": {"server": {"url": "https://x"}}},
            "customers.0.assistantOverrides.server",
        ),
        ("customer", {"squadOverrides": {"server": {}}}, "customers.0.squadOverrides.server"),
    ],
)
def test_overrides_that_would_take_the_calls_messages_away_are_refused(
    where, overrides, field, api, campaign_body
) -> None:
    body = campaign_body(1)
    (body if where == "campaign" else body["customers"][0]).update(overrides)

    for path in ("/campaign", "/v2/campaign"):
        response = api.post(path, body, format="json")
        assert response.status_code == 400
        assert messages(response) == [f"{field} {REFUSAL}"]


def test_bulk_added_customers_are_refused_a_server_of_their_own(api, create) -> None:
    campaign = create(1)

    response = api.post(
        f"/campaign/{campaign['id']}/customers",
        [{"number": "+14155550777", "assistantOverrides": {"server": {"url": "https://crm.example"}}}],
        format="json",
    )

    assert response.status_code == 400
    assert messages(response) == [f"customers.0.assistantOverrides.server {REFUSAL}"]


@pytest.mark.parametrize(
    ("messages_value", "expected"),
    [
        ("transcript", "customers.0.assistantOverrides.serverMessages must be an array"),
        (
            ["transcript", 7, ""],
            "customers.0.assistantOverrides.serverMessages.1 must be a message type: "
            "a string of 1 to 100 characters",
        ),
    ],
)
def test_a_customers_own_server_messages_must_be_a_list_of_message_types(
    messages_value, expected, api, campaign_body
) -> None:
    body = campaign_body(1)
    body["customers"][0]["assistantOverrides"] = {"serverMessages": messages_value}

    response = post(api, body)

    assert response.status_code == 400
    assert messages(response)[0] == expected
    assert not Campaign.objects.exists()


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"assistantOverrides": _nested(33)}, "assistantOverrides must not be nested deeper than 32 levels"),
        (
            {"squadOverrides": {"variableValues": {"blob": "x" * 70_000}}},
            "squadOverrides must not be larger than 64 KiB (65536 bytes) as JSON",
        ),
        (
            {"assistantOverrides": {"variableValues": {"n": 2**64}}},
            "assistantOverrides.variableValues.n must be an integer from",
        ),
        ({"assistantOverrides": ["not", "an", "object"]}, "assistantOverrides must be an object"),
        ({"server": {"url": "http://10.1.2.3/hooks"}}, "server.url "),
        ({"server": {}}, "server.url should not be empty"),
        ({"server": {**SERVER, "timeoutSeconds": 0}}, "server.timeoutSeconds must not be less than 1"),
        ({"server": {**SERVER, "timeoutSeconds": "20"}}, "server.timeoutSeconds must be a number"),
        (
            {"server": {**SERVER, "backoffPlan": {"type": "linear", "maxRetries": 1, "baseDelaySeconds": 1}}},
            "server.backoffPlan.type must be one of the following values: fixed, exponential",
        ),
        (
            {"server": {**SERVER, "backoffPlan": {"type": "fixed", "maxRetries": 11, "baseDelaySeconds": 1}}},
            "server.backoffPlan.maxRetries must not be greater than 10",
        ),
        (
            {"server": {**SERVER, "backoffPlan": {"type": "fixed"}}},
            "server.backoffPlan.maxRetries should not be empty",
        ),
        (
            {"server": {**SERVER, "headers": {"X-Token": "a\r\nInjected: 1"}}},
            "server.headers.X-Token must not contain a line break or a NUL character",
        ),
        ({"server": {**SERVER, "retries": 3}}, "property server.retries should not exist"),
        ({"predialPlan": {"enabled": True}}, "predialPlan needs a server to ask (set server.url)"),
        ({"predialPlan": {"enabled": "yes"}}, "predialPlan.enabled must be a boolean value"),
        ({"predialPlan": {"enabled": True, "timeout": 3}}, "property predialPlan.timeout should not exist"),
        (
            {"serverMessages": ["campaign.started"]},
            "serverMessages need a server to be sent to (set server.url)",
        ),
        (
            {"server": SERVER, "serverMessages": ["campaign.started", "status-update"]},
            "serverMessages.1 must be one of",
        ),
        ({"server": SERVER, "serverMessages": "campaign.started"}, "serverMessages must be an array"),
        ({"duplicateFromCampaignId": 5}, "duplicateFromCampaignId must be a string"),
    ],
)
def test_bad_2026_settings_are_refused_naming_the_field(extra, message, api, campaign_body) -> None:
    for path in ("/campaign", "/v2/campaign"):
        response = api.post(path, campaign_body(1, **extra), format="json")

        assert response.status_code == 400, path
        assert any(m.startswith(message) for m in messages(response)), messages(response)
    assert not Campaign.objects.exists()


def test_v1_updates_change_the_2026_settings_while_scheduled_and_null_clears(api, create) -> None:
    campaign = create(1, assistantOverrides={"firstMessage": "Hi"})
    path = f"/campaign/{campaign['id']}"

    set_ = api.patch(
        path,
        {
            "assistantOverrides": {"variableValues": {"plan": "gold"}},
            "server": SERVER,
            "serverMessages": ["campaign.ended"],
            "predialPlan": {},
        },
        format="json",
    )
    cleared = api.patch(path, {"predialPlan": None, "assistantOverrides": None}, format="json")

    assert set_.status_code == 200, set_.json()
    assert set_.json()["assistantOverrides"] == {"variableValues": {"plan": "gold"}}  # replaced, not merged
    assert set_.json()["server"]["url"] == SERVER["url"]
    assert set_.json()["serverMessages"] == ["campaign.ended"]
    assert set_.json()["predialPlan"] == {}
    assert cleared.status_code == 200, cleared.json()
    assert "predialPlan" not in cleared.json() and "assistantOverrides" not in cleared.json()
    stored = Campaign.objects.get(pk=campaign["id"])
    assert (stored.predial_plan, stored.assistant_overrides, stored.server_messages) == (
        None,
        None,
        ["campaign.ended"],
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"predialPlan": {}}, ["predialPlan needs a server to ask (set server.url)"]),
        ({"server": {"url": "http://10.0.0.7/x"}}, ["server.url "]),
        ({"assistantOverrides": {"server": {"url": "https://x.example"}}}, ["assistantOverrides.server "]),
        ({"serverMessages": ["status-update"]}, ["serverMessages.0 must be one of"]),
    ],
)
def test_v1_updates_of_the_2026_settings_are_checked_whole(body, expected, api, create) -> None:
    campaign = create(1)

    response = api.patch(f"/campaign/{campaign['id']}", body, format="json")

    assert response.status_code == 400
    assert [m for m in messages(response) if any(m.startswith(e) for e in expected)], messages(response)
    assert Campaign.objects.get(pk=campaign["id"]).predial_plan is None


def test_v1_updates_of_the_2026_settings_follow_the_campaigns_state(api, create, owner) -> None:
    campaign = create(1, server=SERVER, serverMessages=["campaign.ended"])
    services.campaign_start(campaign=Campaign.objects.get(pk=campaign["id"]), by=owner)
    path = f"/campaign/{campaign['id']}"

    running = api.patch(path, {"serverMessages": ["campaign.ended", "contact.failed"]}, format="json")
    frozen = api.patch(path, {"assistantOverrides": {"firstMessage": "Hello"}}, format="json")
    services.campaign_pause(campaign=Campaign.objects.get(pk=campaign["id"]), by=owner)
    paused = api.patch(path, {"serverMessages": ["campaign.ended", "contact.failed"]}, format="json")

    assert running.status_code == 400
    assert messages(running) == [
        "serverMessages can only be updated while the campaign is scheduled or paused (it is in-progress)"
    ]
    assert frozen.status_code == 400
    assert messages(frozen) == [
        "assistantOverrides can only be updated while the campaign is scheduled (it is in-progress)"
    ]
    assert paused.status_code == 200, paused.json()
    assert paused.json()["serverMessages"] == ["campaign.ended", "contact.failed"]


def test_a_paused_campaign_reads_in_progress_everywhere_with_our_flag(
    api, create, owner, vapi_answer
) -> None:
    campaign = create(1)
    running = services.campaign_start(campaign=Campaign.objects.get(pk=campaign["id"]), by=owner)
    paused_at = services.campaign_pause(campaign=running, by=owner).paused_at

    document = api.get(f"/campaign/{campaign['id']}").json()
    listed = api.get("/campaign?status=paused").json()
    resumed = api.post(f"/campaign/{campaign['id']}/resume").json()

    assert not vapi_answer("get", "/campaign/{id}", 200, document)  # no widening of Vapi's enum
    assert (document["status"], document["paused"]) == ("in-progress", True)
    assert (
        document["pausedAt"]
        == paused_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{paused_at.microsecond // 1000:03d}Z"
    )
    assert not vapi_answer("get", "/campaign", 200, listed)
    assert [c["status"] for c in listed["results"]] == ["in-progress"]
    assert resumed["status"] == "in-progress" and "paused" not in resumed and "pausedAt" not in resumed


def test_v1_duplicates_any_campaign_of_the_organization(api, create) -> None:
    source = create(2, assistantOverrides={"variableValues": {"a": 1}}, dialingStrategy={"maxAttempts": 4})

    response = post(api, {"name": "Copy", "duplicateFromCampaignId": source["id"]})

    assert response.status_code == 201, response.json()
    copy = response.json()
    assert (copy["assistantId"], copy["phoneNumberId"]) == (source["assistantId"], source["phoneNumberId"])
    assert copy["customers"] == source["customers"]
    assert copy["assistantOverrides"] == {"variableValues": {"a": 1}}
    assert copy["dialingStrategy"] == source["dialingStrategy"]


def test_a_dial_plan_is_not_copied_so_a_duplicate_of_one_needs_its_callers(api, fixture_numbers) -> None:
    plan = [{"phoneNumberId": str(fixture_numbers[0].pk), "customers": [{"number": "+14155550001"}]}]
    source = post(api, {"name": "Plan", "squadId": "s", "dialPlan": plan}).json()

    refused = post(api, {"name": "Copy", "duplicateFromCampaignId": source["id"]})
    given = post(api, {"name": "Copy", "duplicateFromCampaignId": source["id"], "dialPlan": plan})

    assert refused.status_code == 400
    assert messages(refused) == [
        "duplicateFromCampaignId names a campaign with a dialPlan, which is not copied: give phoneNumberId "
        "with customers, or a dialPlan"
    ]
    assert given.status_code == 201 and given.json()["squadId"] == "s"


def test_a_campaign_beyond_10000_customers_lists_the_first_and_the_latest_calls(
    api, create, caller_id, vapi_answer
) -> None:
    """Vapi's Campaign requires `calls` and holds 10,000 customers: ours list the first 10,000
    customers and the 10,000 most recent calls, and say where the rest is."""
    campaign = Campaign.objects.get(pk=create(1)["id"])
    services.customers_insert(
        campaign=campaign,
        rows=[
            services.CustomerInput(number=f"+1212555{i:04d}", source=f"customers.{i}") for i in range(10_000)
        ],
    )
    Call.objects.bulk_create(
        Call(
            organization_id=campaign.organization_id,
            campaign=campaign,
            customer=customer,
            phone_number=caller_id,
            provider_account=caller_id.provider_account,
            attempt=1,
            status="ended",
            ended_reason="customer-ended-call",
        )
        for customer in Customer.objects.filter(campaign=campaign).order_by("position")
    )

    document = api.get(f"/campaign/{campaign.pk}").json()

    assert not vapi_answer("get", "/campaign/{id}", 200, document)
    assert len(document["customers"]) == 10_000 and len(document["calls"]) == 10_000
    latest = Call.objects.filter(campaign=campaign).order_by("-created_at", "-id")[:10_000]
    assert set(document["calls"]) == {str(pk) for pk in latest.values_list("pk", flat=True)}
    # Every call names its customer, the 10,001st included when its call is listed.
    assert all(entry["customer"]["number"] for entry in document["calls"].values())
    assert document["truncated"] == {
        "customers": {
            "returned": 10_000,
            "total": 10_001,
            "next": f"/campaign/{campaign.pk}/customers?page=11&limit=1000",
        },
        "calls": {"returned": 10_000, "next": f"/campaign/{campaign.pk}/calls?page=11&limit=1000"},
    }
    rest = api.get(document["truncated"]["calls"]["next"]).json()
    assert [c["id"] for c in rest["results"]] == [
        str(Call.objects.filter(campaign=campaign).order_by("-created_at", "-id").last().pk)
    ]


def test_a_duplicate_given_a_dial_plan_keeps_no_caller_id_of_its_source(api, create, fixture_numbers) -> None:
    source = create(1)
    plan = [{"phoneNumberId": str(fixture_numbers[1].pk), "customers": [{"number": "+14155550002"}]}]

    response = post(api, {"name": "Copy", "duplicateFromCampaignId": source["id"], "dialPlan": plan})

    assert response.status_code == 201, response.json()
    assert response.json()["dialPlan"] == plan
    assert "phoneNumberId" not in response.json() and "customers" not in response.json()
