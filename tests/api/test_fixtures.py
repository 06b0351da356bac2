"""Every Vapi compatibility fixture (tests/spec/fixtures, `_` keys stripped) is a test case.

Valid bodies are accepted with a response of the fixture's shape; every invalid one is
refused with 400 and a message naming the field. `provider/` fixtures describe the
dialer's traffic with providers and are exercised by the dialer's tests.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from campaigns import services
from campaigns.models import Campaign
from tests.api.conftest import EXTENSION_KEYS, FIXTURES, load_fixture, messages, without_call_servers

CREATE_FIXTURES = sorted(p.name for p in FIXTURES.glob("create-*.json"))
INVALID_FIXTURES = sorted(p.name for p in (FIXTURES / "invalid").glob("*.json"))

# invalid fixture -> the field its 400 message must name.
NAMED_FIELD = {
    "create-assistant-and-squad.json": "squadId",
    "create-assistant-and-workflow.json": "workflowId",
    "create-customer-extension-too-long.json": "customers.0.extension",
    "create-customer-name-too-long.json": "customers.0.name",
    "create-customer-no-number-no-sip.json": "customers.0.number",
    "create-customer-number-bad-chars-e164-off.json": "customers.0.number",
    "create-customer-number-not-e164.json": "customers.0.number",
    "create-customer-number-too-long.json": "customers.0.number",
    "create-customer-number-too-short.json": "customers.0.number",
    "create-customers-and-dialplan.json": "customers",
    "create-customers-not-array.json": "customers",
    "create-dialplan-entry-missing-customers.json": "dialPlan.0.customers",
    "create-dialplan-entry-missing-phone.json": "dialPlan.0.phoneNumberId",
    "create-empty-customers.json": "customers",
    "create-missing-name.json": "name",
    "create-name-not-string.json": "name",
    "create-no-call-target.json": "assistantId",
    "create-no-customers-no-dialplan.json": "customers",
    "create-no-phone-number-no-dialplan.json": "phoneNumberId",
    "create-phone-number-and-dialplan.json": "phoneNumberId",
    "create-schedule-bad-datetime.json": "schedulePlan.earliestAt",
    "create-schedule-latest-before-earliest.json": "schedulePlan.latestAt",
    "create-schedule-missing-earliest.json": "schedulePlan.earliestAt",
    "create-unknown-property.json": "retryPlan",
    "update-change-assistant-while-in-progress.json": "assistantId",
    "update-change-schedule-after-end.json": "schedulePlan",
    "update-customers-not-updatable.json": "customers",
    "update-end-already-ended.json": "status",
    "update-phone-and-dialplan.json": "phoneNumberId",
    "update-status-in-progress.json": "status",
    "update-status-scheduled.json": "status",
}
# How to reach each `_precondition` status through the services.
PRECONDITION_STEPS = {
    "scheduled": [],
    "in-progress": [services.campaign_start],
    "ended": [services.campaign_end],
}


def test_every_invalid_fixture_has_an_expected_field() -> None:
    assert set(INVALID_FIXTURES) == set(NAMED_FIELD)


def echoed(customer: dict) -> dict:
    """What a customer looks like echoed: numberE164CheckEnabled only when it was sent false."""
    return {k: v for k, v in customer.items() if not (k == "numberE164CheckEnabled" and v is True)}


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


@pytest.mark.parametrize("name", CREATE_FIXTURES)
def test_it_accepts_each_valid_create_fixture_with_a_response_of_its_shape(
    name, api, fixture_numbers
) -> None:
    body = without_call_servers(load_fixture(name))

    response = api.post("/campaign", body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    shape = load_fixture("response-campaign-created.json")
    optional_in_shape = {"assistantId", "phoneNumberId", "schedulePlan", "customers"}
    expected_keys = (set(shape) - optional_in_shape) | (
        set(body) & {*optional_in_shape, "workflowId", "squadId"}
    )
    expected_keys |= {"dialPlan"} if "dialPlan" in body else set()
    assert set(created) == expected_keys | EXTENSION_KEYS
    assert created["status"] == "scheduled"
    assert created["calls"] == {}
    assert all(created[k] == 0 for k in shape if k.startswith("callsCounter"))
    assert created["name"] == body["name"]
    if "customers" in body:
        assert created["customers"] == [echoed(c) for c in body["customers"]]
    if "dialPlan" in body:
        assert created["dialPlan"] == [
            {"phoneNumberId": e["phoneNumberId"], "customers": [echoed(c) for c in e["customers"]]}
            for e in body["dialPlan"]
        ]
    for key in ("earliestAt", "latestAt"):
        if key in body.get("schedulePlan", {}):
            assert same_instant(created["schedulePlan"][key], body["schedulePlan"][key])


def test_the_created_campaign_matches_the_created_response_fixture(api, fixture_numbers) -> None:
    shape = load_fixture("response-campaign-created.json")
    body = {
        "name": shape["name"],
        "assistantId": shape["assistantId"],
        "phoneNumberId": shape["phoneNumberId"],
        "schedulePlan": shape["schedulePlan"],
        "customers": shape["customers"],
    }

    created = api.post("/campaign", body, format="json").json()

    assert set(created) == set(shape) | EXTENSION_KEYS
    ignored = {"id", "orgId", "createdAt", "updatedAt"}
    assert {k: v for k, v in created.items() if k not in ignored | EXTENSION_KEYS} == {
        k: v for k, v in shape.items() if k not in ignored
    }


def test_a_listed_campaign_has_the_list_fixtures_shape(api, fixture_numbers) -> None:
    shape = load_fixture("response-list.json")
    item = shape["results"][0]
    body = {k: item[k] for k in ("name", "assistantId", "phoneNumberId", "schedulePlan", "customers")}
    api.post("/campaign", body, format="json")

    listed = api.get("/campaign").json()

    assert set(listed) == set(shape)
    # Vapi's 2026 PaginationMeta adds optional keys to the fixture's three.
    assert listed["metadata"] == {
        **shape["metadata"],
        "totalPages": 1,
        "hasNextPage": False,
        "sortOrder": "DESC",
    }
    assert set(listed["results"][0]) == set(item) | EXTENSION_KEYS
    assert listed["results"][0]["customers"] == item["customers"]


def test_an_unknown_property_gets_exactly_the_error_fixture(api, fixture_numbers) -> None:
    response = api.post("/campaign", load_fixture("invalid/create-unknown-property.json"), format="json")

    assert response.status_code == 400
    assert response.json() == load_fixture("error-400-example.json")


def test_patch_ended_gives_the_ended_by_user_fixture_shape(api, fixture_numbers, dial) -> None:
    shape = load_fixture("response-campaign-ended-by-user.json")
    # No schedulePlan (the fixture's has passed): due now, so the dispatcher queues calls at once.
    body = {k: shape[k] for k in ("name", "assistantId", "phoneNumberId", "customers")}
    body["dialingStrategy"] = {"respectRecipientTimeZone": False}
    created = api.post("/campaign", body, format="json").json()
    campaign = Campaign.objects.get(pk=created["id"])
    analysis = shape["calls"]["e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"]["analysis"]
    dial(
        campaign,
        {
            0: [("in-progress", "", None), ("ended", "customer-ended-call", analysis)],
            1: [("in-progress", "", None), ("ended", "voicemail", None)],
            2: [("in-progress", "", None)],
        },
    )

    response = api.patch(
        f"/campaign/{created['id']}", load_fixture("update-end-campaign.json"), format="json"
    )

    assert response.status_code == 200
    ended = response.json()
    assert set(ended) == (set(shape) | EXTENSION_KEYS) - {"schedulePlan"}
    assert ended["status"] == "ended"
    assert ended["endedReason"] == "campaign.in-progress.ended-by-user"
    assert {k: ended[k] for k in ended if k.startswith("callsCounter")} == {
        k: shape[k] for k in shape if k.startswith("callsCounter")
    }
    entries = sorted(ended["calls"].values(), key=lambda c: c["customer"]["number"])
    expected = sorted(shape["calls"].values(), key=lambda c: c["customer"]["number"])
    assert [set(e) for e in entries] == [set(e) for e in expected]
    assert [(e["customer"], e["status"], e.get("endedReason")) for e in entries] == [
        (e["customer"], e["status"], e.get("endedReason")) for e in expected
    ]
    john = next(e for e in entries if e["customer"]["name"] == "John Carter")
    assert john["analysis"] == analysis


def test_patch_rename_and_reschedule_fixture_is_applied_while_scheduled(api, create) -> None:
    created = create()
    body = load_fixture("update-rename-and-reschedule.json")

    response = api.patch(f"/campaign/{created['id']}", body, format="json")

    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == body["name"]
    assert same_instant(updated["schedulePlan"]["earliestAt"], body["schedulePlan"]["earliestAt"])
    assert same_instant(updated["schedulePlan"]["latestAt"], body["schedulePlan"]["latestAt"])


def test_patch_end_fixture_ends_a_scheduled_campaign(api, create) -> None:
    created = create()

    response = api.patch(
        f"/campaign/{created['id']}", load_fixture("update-end-campaign.json"), format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "ended"
    assert response.json()["endedReason"] == "campaign.scheduled.ended-by-user"


@pytest.mark.parametrize("name", [n for n in INVALID_FIXTURES if n.startswith("create-")])
def test_it_refuses_each_invalid_create_fixture_naming_the_field(name, api, fixture_numbers) -> None:
    response = api.post("/campaign", load_fixture(f"invalid/{name}"), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error"] == "Bad Request"
    assert any(NAMED_FIELD[name] in message for message in messages(response)), messages(response)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("name", [n for n in INVALID_FIXTURES if n.startswith("update-")])
def test_it_refuses_each_invalid_update_fixture_naming_the_field(name, api, create, owner) -> None:
    raw = json.loads((FIXTURES / "invalid" / name).read_text())
    status = raw.get("_precondition", "campaign.status == 'scheduled'").split("'")[1]
    campaign = Campaign.objects.get(pk=create()["id"])
    for step in PRECONDITION_STEPS[status]:
        campaign = step(campaign=campaign, by=owner)
    assert campaign.status == status

    response = api.patch(f"/campaign/{campaign.pk}", load_fixture(f"invalid/{name}"), format="json")

    assert response.status_code == 400, response.json()
    assert any(NAMED_FIELD[name] in message for message in messages(response)), messages(response)
    assert Campaign.objects.get(pk=campaign.pk).status == status
