"""Services name what they refuse as they were given it: their parameters and input attributes,
in snake_case (the API translates, campaigns/api/names.py; the dashboard's forms use the same
names). Their results are named so too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns import services
from campaigns.models import Campaign, ProviderAccount
from campaigns.rules.strategy import BOUNDS


def refused(call) -> list[tuple[str, str]]:
    with pytest.raises(services.ValidationFailed) as caught:
        call()
    return [(error.field, error.message) for error in caught.value.errors]


def test_a_running_campaign_refuses_changes_naming_each_input(make_campaign, owner, caller_id) -> None:
    campaign = services.campaign_start(campaign=make_campaign(1), by=owner)
    changes = services.CampaignChanges(
        fields={"target", "phone_number_id", "earliest_at"},
        target=("squad_id", "squad-1"),
        phone_number_id=str(caller_id.pk),
        earliest_at=datetime(2030, 1, 1, tzinfo=UTC),
    )

    fields = [
        field
        for field, _ in refused(
            lambda: services.campaign_update(campaign=campaign, by=owner, changes=changes)
        )
    ]

    assert fields == ["schedule", "phone_number_id", "target"]
    strategy = services.CampaignChanges(fields={"strategy"}, strategy={"max_attempts": 2})
    assert refused(lambda: services.campaign_update(campaign=campaign, by=owner, changes=strategy)) == [
        (
            "strategy",
            "can only be updated while the campaign is scheduled or paused (it is in-progress);"
            " while it runs, only its calling hours, concurrency, pacing and priority",
        )
    ]


def test_strategy_problems_name_the_setting(make_campaign) -> None:
    high = BOUNDS["max_attempts"][1]

    problems = refused(
        lambda: make_campaign(
            1,
            strategy={
                "max_attempts": high + 1,
                "calling_hours": [{"day": "someday", "start": "09:00", "end": "9pm"}],
                "retry_delays": {"busy": 60, "noAnswer": 60, "voicemail": 60, "failed": -1},
            },
        )
    )

    assert problems == [
        ("strategy.max_attempts", f"must be an integer from 1 to {high}"),
        ("strategy.calling_hours.0.day", "must be one of mon, tue, wed, thu, fri, sat, sun"),
        ("strategy.calling_hours.0.end", "must be a time as HH:MM (24-hour)"),
        ("strategy.retry_delays.failed", "must be a number of seconds from 0 to 2592000"),
    ]


def test_schedule_and_caller_id_problems_name_their_inputs(
    make_campaign, org, owner, other_caller_id
) -> None:
    assert refused(
        lambda: make_campaign(
            1, earliest_at=datetime(2030, 2, 1, tzinfo=UTC), latest_at=datetime(2030, 1, 1, tzinfo=UTC)
        )
    ) == [("latest_at", "must not be before earliestAt")]
    theirs = services.DialPlanInput(str(other_caller_id.pk), [services.CustomerInput(number="+14155550001")])
    data = services.CampaignInput(name="Plan", squad_id="squad-1", dial_plan=[theirs])
    assert refused(lambda: services.campaign_create(organization=org, by=owner, data=data)) == [
        ("dial_plan.0.phone_number_id", "does not name a phone number of this organization")
    ]


def test_caller_ids_and_providers_name_their_parameters(org, other_org, owner) -> None:
    theirs = ProviderAccount.objects.create(organization=other_org, name="Theirs", kind="simulated")

    assert refused(
        lambda: services.phone_number_create(
            organization=org, by=owner, number="+14155550123", provider_account=theirs
        )
    ) == [("provider_account", "does not name a provider account of this organization")]
    assert refused(
        lambda: services.provider_account_create(organization=org, by=owner, name="Vapi", kind="vapi")
    ) == [("base_url", "is required for a Vapi-compatible provider")]


def test_a_bulk_add_counts_by_name(make_campaign, owner) -> None:
    campaign = make_campaign(1)
    rows = [services.CustomerInput(number="+14155550000"), services.CustomerInput(number="+14155559999")]

    result = services.customers_add(campaign=campaign, by=owner, rows=rows)

    assert result.as_dict() == {"added": 1, "duplicates": 1, "do_not_call": 0, "invalid_numbers": 0}
    assert Campaign.objects.get(pk=campaign.pk).customers_total == 2
