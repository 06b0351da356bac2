"""Caller-ID pools over HTTP: callerIdPool on create, read and update, its errors naming the field,
the phone numbers' caller-ID fields and switches, and the call's callerIdChoice."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Campaign, PhoneNumber, ProviderAccount
from tests.api.conftest import messages

ANY_TIME = {"respectRecipientTimeZone": False}


@pytest.fixture
def agents(org) -> tuple[ProviderAccount, ProviderAccount]:
    a = ProviderAccount.objects.create(organization=org, name="Agent A", kind="simulated")
    b = ProviderAccount.objects.create(organization=org, name="Agent B", kind="simulated")
    return a, b


@pytest.fixture
def lines(org, agents) -> list[PhoneNumber]:
    a, b = agents
    return [
        PhoneNumber.objects.create(organization=org, provider_account=a, number="+14155550100"),
        PhoneNumber.objects.create(organization=org, provider_account=a, number="+12125550100"),
        PhoneNumber.objects.create(organization=org, provider_account=b, number="+14155550200"),
    ]


def body(lines, pool, count: int = 3) -> dict:
    return {
        "name": "Pool",
        "assistantId": "asst-1",
        "phoneNumberId": str(lines[0].pk),
        "customers": [{"number": f"+1415555{i:04d}"} for i in range(count)],
        "dialingStrategy": ANY_TIME,
        "callerIdPool": pool,
    }


def test_a_pool_is_created_and_read_back(api, lines, agents) -> None:
    weights = {str(agents[0].pk): 3, str(agents[1].pk): 1}
    pool = {"phoneNumberIds": [str(lines[1].pk), str(lines[2].pk)], "mode": "split", "weights": weights}

    created = api.post("/campaign", body(lines, pool), format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["callerIdPool"] == pool
    read = api.get(f"/campaign/{created.json()['id']}").json()
    assert read["callerIdPool"] == pool
    assert read["phoneNumberId"] == str(lines[0].pk)  # the pool's default, as Vapi reads it


def test_a_campaign_without_a_pool_reads_as_before(api, lines) -> None:
    created = api.post("/campaign", {**body(lines, None)}, format="json")
    assert created.status_code == 201
    assert "callerIdPool" not in created.json()


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (
            {"phoneNumberIds": ["nope"]},
            "callerIdPool.phoneNumberIds.0 does not name a phone number of this organization",
        ),
        (
            {"phoneNumberIds": [], "mode": "nearby"},
            "callerIdPool.mode must be one of the following values: local-presence, split",
        ),
        ({"phoneNumberIds": "x"}, "callerIdPool.phoneNumberIds must be an array"),
        ({"mode": "split"}, "callerIdPool.phoneNumberIds should not be empty"),
        ({"phoneNumberIds": [], "weights": {"a": 1}}, "callerIdPool.weights are only for the split mode"),
        (
            {"phoneNumberIds": [], "mode": "split"},
            "callerIdPool.mode split needs caller IDs of at least two provider accounts",
        ),
        ({"phoneNumberIds": [], "size": 2}, "property callerIdPool.size should not exist"),
    ],
)
def test_pool_errors_name_the_field_and_nothing_is_saved(api, lines, pool, expected) -> None:
    response = api.post("/campaign", body(lines, pool), format="json")

    assert response.status_code == 400
    assert expected in messages(response)
    assert not Campaign.objects.exists()


def test_split_weights_must_cover_every_provider_and_be_whole_numbers(api, lines, agents) -> None:
    a, b = agents
    pool = {"phoneNumberIds": [str(lines[2].pk)], "mode": "split", "weights": {str(a.pk): 1.5}}

    response = api.post("/campaign", body(lines, pool), format="json")

    assert response.status_code == 400
    assert set(messages(response)) == {
        f"callerIdPool.weights.{a.pk} must be an integer number",
        f"callerIdPool.weights must give every provider account a weight ({b.pk})",
    }
    assert not Campaign.objects.exists()


def test_a_duplicate_number_is_named(api, lines) -> None:
    pool = {"phoneNumberIds": [str(lines[1].pk), str(lines[1].pk)]}
    response = api.post("/campaign", body(lines, pool), format="json")
    assert messages(response) == ["callerIdPool.phoneNumberIds.1 is given twice (first at index 0)"]


def test_another_organizations_number_is_refused(api, lines, other_caller_id) -> None:
    pool = {"phoneNumberIds": [str(other_caller_id.pk)]}
    response = api.post("/campaign", body(lines, pool), format="json")
    assert messages(response) == [
        "callerIdPool.phoneNumberIds.0 does not name a phone number of this organization"
    ]


def test_the_pool_changes_before_the_campaign_runs_and_null_removes_it(api, lines, owner) -> None:
    created = api.post("/campaign", body(lines, {"phoneNumberIds": [str(lines[1].pk)]}), format="json").json()
    path = f"/campaign/{created['id']}"

    changed = api.patch(path, {"callerIdPool": {"phoneNumberIds": [str(lines[2].pk)]}}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["callerIdPool"] == {"phoneNumberIds": [str(lines[2].pk)], "mode": "local-presence"}

    removed = api.patch(path, {"callerIdPool": None}, format="json")
    assert removed.status_code == 200
    assert "callerIdPool" not in removed.json()


def test_the_pool_is_refused_while_the_campaign_runs(api, lines, owner) -> None:
    created = api.post("/campaign", body(lines, {"phoneNumberIds": []}), format="json").json()
    services.campaign_start(campaign=Campaign.objects.get(pk=created["id"]), by=owner)

    response = api.patch(f"/campaign/{created['id']}", {"callerIdPool": None}, format="json")

    assert response.status_code == 400
    assert messages(response) == [
        "callerIdPool can only be updated while the campaign is scheduled or paused (it is in-progress)"
    ]


def test_phone_numbers_show_where_they_are_and_their_switches(api, lines) -> None:
    number = api.get(f"/phone-number/{lines[0].pk}").json()

    assert number["country"] == "US" and number["region"] == "US-CA" and number["areaCode"] == "415"
    assert number["disabled"] is False
    assert number["healthCalls"] == 0 and "health" not in number and "restedAt" not in number


def test_a_phone_number_is_disabled_capped_and_its_rest_lifted(api, lines) -> None:
    PhoneNumber.objects.filter(pk=lines[1].pk).update(
        rested_reason="answer rate 2%", rested_at="2026-12-01T00:00:00Z"
    )
    path = f"/phone-number/{lines[1].pk}"

    changed = api.patch(
        path,
        {"disabled": True, "maxConcurrentCalls": 3, "maxDailyCalls": 200, "rested": False},
        format="json",
    )

    assert changed.status_code == 200, changed.json()
    data = changed.json()
    assert (data["disabled"], data["maxConcurrentCalls"], data["maxDailyCalls"]) == (True, 3, 200)
    assert "restedAt" not in data
    cleared = api.patch(path, {"maxDailyCalls": None, "disabled": False}, format="json").json()
    assert "maxDailyCalls" not in cleared and cleared["disabled"] is False


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"maxConcurrentCalls": 0}, "maxConcurrentCalls must not be less than 1"),
        ({"disabled": "yes"}, "disabled must be a boolean value"),
        ({"rested": True}, "rested can only be set to false (a rest is lifted, never imposed)"),
        ({"number": "+14155550999"}, "property number should not exist"),
    ],
)
def test_phone_number_switch_errors_name_the_field(api, lines, change, expected) -> None:
    response = api.patch(f"/phone-number/{lines[1].pk}", change, format="json")
    assert response.status_code == 400
    assert messages(response) == [expected]
    assert PhoneNumber.objects.get(pk=lines[1].pk).max_concurrent_calls is None


def test_calls_say_why_their_caller_id(api, lines, owner, dial) -> None:
    created = api.post("/campaign", body(lines, {"phoneNumberIds": [str(lines[1].pk)]}), format="json").json()
    campaign = Campaign.objects.get(pk=created["id"])
    services.campaign_start(campaign=campaign, by=owner)
    dial(campaign)

    calls = api.get(f"/campaign/{campaign.pk}/calls").json()
    records = calls["results"] if isinstance(calls, dict) else calls
    assert records
    assert {r["callerIdChoice"] for r in records} == {"area code 415"}
    assert {r["phoneNumberId"] for r in records} == {str(lines[0].pk)}
    document = api.get(f"/campaign/{campaign.pk}").json()
    assert {c["callerIdChoice"] for c in document["calls"].values()} == {"area code 415"}


def test_v2_creates_with_a_pool_and_its_summaries_carry_it(api, lines) -> None:
    pool = {"phoneNumberIds": [str(lines[1].pk)], "mode": "local-presence"}
    plain = api.post("/campaign", body(lines, None), format="json").json()

    created = api.post("/v2/campaign", body(lines, pool), format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["callerIdPool"] == pool
    campaign_id = created.json()["id"]
    assert api.get(f"/v2/campaign/{campaign_id}").json()["callerIdPool"] == pool
    listed = {c["id"]: c for c in api.get("/v2/campaign").json()["results"]}
    assert listed[campaign_id]["callerIdPool"] == pool
    assert "callerIdPool" not in listed[plain["id"]]  # a campaign without a pool reads as before
