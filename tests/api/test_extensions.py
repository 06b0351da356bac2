"""Dialdeck's additions to the campaign document: `dialingStrategy` and Vapi's newer
`maxConcurrency`, on create, patch and response; and PATCH of Vapi's fields while scheduled."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.api.names import STRATEGY_KEYS
from campaigns.models import Campaign, Customer
from tests.api.conftest import messages

STRATEGY = {
    "timeZone": "America/New_York",
    "callingHours": [{"day": "mon", "start": "09:00", "end": "17:00"}],
    "respectRecipientTimeZone": False,
    "recipientEarliest": "09:00",
    "recipientLatest": "20:00",
    "maxConcurrentCalls": 4,
    "callsPerMinute": 30,
    "maxAttempts": 3,
    "retryDelaySeconds": {"busy": 60, "noAnswer": 120, "voicemail": 300, "failed": 90},
    "retryVoicemail": False,
    "maxRingSeconds": 25,
    "maxDurationSeconds": 300,
    "dialingOrder": "lifo",
    "priority": 7,
    "machineDetection": True,
    "capacityWaitSeconds": 7200,
    "autoStart": False,
}


# dialingStrategy ------------------------------------------------------------------------------


def test_a_campaign_without_dialing_strategy_dials_like_vapi(create) -> None:
    body = create()

    assert body["dialingStrategy"]["maxAttempts"] == 1
    assert body["dialingStrategy"]["capacityWaitSeconds"] == 3600
    assert body["maxConcurrency"] == body["dialingStrategy"]["maxConcurrentCalls"]
    assert "callsPerMinute" not in body["dialingStrategy"]  # unset settings are absent


def test_every_dialing_strategy_key_is_stored_and_echoed(create) -> None:
    assert set(STRATEGY) == set(STRATEGY_KEYS.values())

    body = create(dialingStrategy=STRATEGY)

    assert body["dialingStrategy"] == STRATEGY
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.max_attempts == 3
    assert campaign.dialing_order == "lifo"
    assert f"{campaign.recipient_earliest:%H:%M}" == "09:00"


def test_max_concurrency_sets_the_concurrency_cap_and_keeps_vapis_defaults(create) -> None:
    body = create(maxConcurrency=25)

    assert body["maxConcurrency"] == 25
    assert body["dialingStrategy"]["maxConcurrentCalls"] == 25
    assert body["dialingStrategy"]["maxAttempts"] == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"maxConcurrency": 0}, "maxConcurrency must not be less than 1"),
        ({"maxConcurrency": 501}, "maxConcurrency must not be greater than 500"),
        ({"maxConcurrency": "5"}, "maxConcurrency must be an integer number"),
        (
            {"maxConcurrency": 5, "dialingStrategy": {"maxConcurrentCalls": 6}},
            "maxConcurrency must not be set together with dialingStrategy.maxConcurrentCalls",
        ),
        ({"dialingStrategy": {"maxAttempts": "3"}}, "dialingStrategy.maxAttempts must be an integer number"),
        (
            {"dialingStrategy": {"maxAttempts": 50}},
            "dialingStrategy.maxAttempts must be an integer from 1 to 20",
        ),
        ({"dialingStrategy": {"retryPlan": 1}}, "property dialingStrategy.retryPlan should not exist"),
        (
            {"dialingStrategy": {"machineDetection": "yes"}},
            "dialingStrategy.machineDetection must be a boolean value",
        ),
        (
            {"dialingStrategy": {"recipientEarliest": "9am"}},
            "dialingStrategy.recipientEarliest must be a time as HH:MM",
        ),
        (
            {"dialingStrategy": {"recipientEarliest": "06:00"}},
            "dialingStrategy.recipientEarliest may only narrow",
        ),
        (
            {"dialingStrategy": {"timeZone": "Mars/Base"}},
            "dialingStrategy.timeZone must be an IANA time zone",
        ),
        ({"dialingStrategy": {"dialingOrder": "lifo-ish"}}, "dialingStrategy.dialingOrder must be one of"),
        ({"dialingStrategy": {"callingHours": [{"day": "mon"}]}}, "dialingStrategy.callingHours.0 must have"),
        ({"dialingStrategy": {"maxAttempts": None}}, "dialingStrategy.maxAttempts must be an integer number"),
        ({"dialingStrategy": []}, "dialingStrategy must be an object"),
    ],
)
def test_bad_dialing_strategies_are_refused_naming_the_key(extra, message, api, campaign_body) -> None:
    response = api.post("/campaign", campaign_body(**extra), format="json")

    assert response.status_code == 400
    assert any(m.startswith(message) for m in messages(response)), messages(response)


def test_the_dialing_strategy_is_editable_while_scheduled_or_paused(api, create, owner) -> None:
    body = create()

    scheduled = api.patch(f"/campaign/{body['id']}", {"dialingStrategy": {"maxAttempts": 4}}, format="json")
    assert scheduled.status_code == 200
    assert scheduled.json()["dialingStrategy"]["maxAttempts"] == 4

    campaign = services.campaign_start(campaign=Campaign.objects.get(pk=body["id"]), by=owner)
    running = api.patch(f"/campaign/{body['id']}", {"dialingStrategy": {"maxAttempts": 5}}, format="json")
    assert running.status_code == 400
    assert messages(running) == [
        "dialingStrategy can only be updated while the campaign is scheduled or paused (it is in-progress);"
        " while it runs, only its calling hours, concurrency, pacing and priority"
    ]
    # Its hours, concurrency and pacing change while it runs (the dispatcher's next pass uses them).
    running = api.patch(f"/campaign/{body['id']}", {"maxConcurrency": 2}, format="json")
    assert running.status_code == 200 and running.json()["maxConcurrency"] == 2
    assert running.json()["dialingStrategy"]["maxAttempts"] == 4  # what the PATCH did not name stays

    services.campaign_pause(campaign=campaign, by=owner)
    paused = api.patch(f"/campaign/{body['id']}", {"maxConcurrency": 3}, format="json")
    assert paused.status_code == 200
    assert paused.json()["maxConcurrency"] == 3
    assert (paused.json()["status"], paused.json()["paused"]) == ("in-progress", True)


def test_changing_the_dialing_order_reorders_waiting_customers(api, create) -> None:
    body = create(3)

    api.patch(f"/campaign/{body['id']}", {"dialingStrategy": {"dialingOrder": "lifo"}}, format="json")

    keys = list(
        Customer.objects.filter(campaign_id=body["id"])
        .order_by("position")
        .values_list("sort_key", flat=True)
    )
    assert keys == [0, -1, -2]


# PATCH of Vapi fields while scheduled ---------------------------------------------------------


def test_patch_switches_the_target_and_the_caller_id(api, create, fixture_numbers) -> None:
    body = create()
    other = str(fixture_numbers[1].pk)

    response = api.patch(
        f"/campaign/{body['id']}", {"squadId": "squad-9", "phoneNumberId": other}, format="json"
    )

    updated = response.json()
    assert updated["squadId"] == "squad-9"
    assert "assistantId" not in updated
    assert updated["phoneNumberId"] == other


def test_patch_replaces_the_dial_plan(api, create, fixture_numbers) -> None:
    body = create()
    plan = [{"phoneNumberId": str(fixture_numbers[1].pk), "customers": [{"number": "+14155550321"}]}]

    updated = api.patch(f"/campaign/{body['id']}", {"dialPlan": plan}, format="json").json()

    assert updated["dialPlan"] == plan
    assert "customers" not in updated
    assert "phoneNumberId" not in updated


def test_patch_refuses_two_targets_at_once(api, create) -> None:
    response = api.patch(
        f"/campaign/{create()['id']}", {"assistantId": "a", "workflowId": "w"}, format="json"
    )

    assert messages(response) == [
        "workflowId must not be set together with assistantId "
        "(only one of assistantId, workflowId or squadId)"
    ]
