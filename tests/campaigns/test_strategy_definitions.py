"""The strategy's rules are written once (campaigns.rules.strategy) and every layer keeps the
same ones: the database's constraint and defaults, and the dashboard's builder."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from campaigns.forms.builder import RETRIES, CampaignForm, as_minutes
from campaigns.models import Campaign
from campaigns.rules.strategy import BOUNDS, DEFAULT_RETRY_DELAYS, DEFAULTS, WEEKDAY_NAMES, WEEKDAYS


def breaks(change) -> bool:
    try:
        with transaction.atomic():
            change()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("field", ["max_attempts", "max_ring_seconds", "priority"])
def test_the_database_keeps_the_bounds_of_the_rules(field, make_campaign) -> None:
    rows = Campaign.objects.filter(pk=make_campaign(1).pk)
    low, high = BOUNDS[field]

    assert not breaks(lambda: rows.update(**{field: low}))
    assert not breaks(lambda: rows.update(**{field: high}))
    assert breaks(lambda: rows.update(**{field: low - 1}))
    assert breaks(lambda: rows.update(**{field: high + 1}))


def test_the_database_needs_one_call_at_a_time_at_least(make_campaign) -> None:
    rows = Campaign.objects.filter(pk=make_campaign(1).pk)

    assert breaks(lambda: rows.update(max_concurrent_calls=BOUNDS["max_concurrent_calls"][0] - 1))


def test_a_new_campaign_gets_the_rules_defaults(make_campaign) -> None:
    campaign = make_campaign(1, strategy={})

    assert {field: getattr(campaign, field) for field in DEFAULTS} == DEFAULTS
    assert campaign.retry_delays == DEFAULT_RETRY_DELAYS


def test_the_builder_offers_the_rules_bounds_defaults_and_weekdays(org) -> None:
    form = CampaignForm(organization=org)

    for field, (low, high) in BOUNDS.items():
        if field in form.fields:
            assert (form.fields[field].min_value, form.fields[field].max_value) == (low, high), field
    for field in ("max_attempts", "max_concurrent_calls", "max_ring_seconds", "priority"):
        assert form.fields[field].initial == DEFAULTS[field]
    assert {key: form.fields[name].initial for key, name in RETRIES.items()} == {
        key: as_minutes(seconds) for key, seconds in DEFAULT_RETRY_DELAYS.items()
    }
    assert [label for label, *_ in form.hour_rows] == [WEEKDAY_NAMES[day] for day in WEEKDAYS]
