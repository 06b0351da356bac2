"""What a supervisor must not miss comes as a notice, once per occurrence: a campaign that paused
itself, a running campaign with nobody callable for minutes, the included minutes used, a provider
failing. Each through the real path that causes it (recording, dispatch, the gate), then the sweep
the beat runs every 30 s, run here several times to show it never repeats itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import clock, services
from campaigns.models import Alert, Customer, Notification, NotificationKind
from tests.campaigns.test_autopause import FAILED, end_calls
from tests.campaigns.test_autopause import running as running  # noqa: F401 - the fixture
from tests.compliance.conftest import dial
from tests.compliance.test_quota import talked, with_quota

pytestmark = pytest.mark.django_db(transaction=True)


def notices(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind))


def test_a_campaign_that_paused_itself_is_announced_once_with_a_link(running, owner, manager) -> None:
    campaign = running(auto_pause_consecutive=3)
    end_calls(campaign, [FAILED, FAILED, FAILED])
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    told = notices(NotificationKind.AUTO_PAUSED)
    assert {n.user for n in told} == {owner, manager}
    assert told[0].text.startswith("“Renewals” paused itself: 3 calls in a row failed at the provider")
    services.alerts_sweep(now=clock.now())  # the sweep never repeats an event
    assert len(notices(NotificationKind.AUTO_PAUSED)) == 2
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("campaigns:notifications")).content.decode()
    assert f'href="/app/campaigns/{campaign.pk}"' in page and "paused itself" in page


def test_nobody_callable_is_announced_after_five_minutes_once_and_again_next_time(
    make_campaign, owner
) -> None:
    campaign = make_campaign(3, name="Renewals", strategy={"respect_recipient_time_zone": False})
    campaign = services.campaign_start(campaign=campaign, by=owner)
    now = clock.now()
    Customer.objects.filter(campaign=campaign).update(next_attempt_at=now + timedelta(hours=3))

    assert services.alerts_sweep(now=now) == 0  # seen, not yet said: short waits are ordinary
    assert services.alerts_sweep(now=now + timedelta(minutes=4)) == 0
    assert services.alerts_sweep(now=now + timedelta(minutes=5)) == 1
    for minutes in (6, 7, 30):  # every later sweep sees it still holds, and says nothing more
        assert services.alerts_sweep(now=now + timedelta(minutes=minutes)) == 0
    [told] = notices(NotificationKind.NOBODY_CALLABLE)  # the owner is the organization's one member
    assert (told.user, told.campaign_id) == (owner, campaign.pk)
    assert "“Renewals” is running with 3 customers left and nobody callable" in told.text
    assert f"{now + timedelta(hours=3):%Y-%m-%d %H:%M} UTC" in told.text

    # Someone becomes due: the occurrence is over. The next one is announced again.
    Customer.objects.filter(campaign=campaign).update(next_attempt_at=now)
    services.alerts_sweep(now=now + timedelta(minutes=31))
    assert Alert.objects.get(key=f"nobody-callable:{campaign.pk}").closed_at is not None
    Customer.objects.filter(campaign=campaign).update(next_attempt_at=now + timedelta(hours=5))
    assert services.alerts_sweep(now=now + timedelta(minutes=32)) == 0
    assert services.alerts_sweep(now=now + timedelta(minutes=37)) == 1
    assert len(notices(NotificationKind.NOBODY_CALLABLE)) == 2


def test_a_paused_campaign_or_one_outside_its_hours_is_not_nobody_callable(make_campaign, owner) -> None:
    campaign = make_campaign(3, strategy={"respect_recipient_time_zone": False})
    campaign = services.campaign_start(campaign=campaign, by=owner)
    now = clock.now()
    Customer.objects.filter(campaign=campaign).update(next_attempt_at=now + timedelta(hours=3))
    services.campaign_pause(campaign=campaign, by=owner)
    for minutes in (0, 10):
        assert services.alerts_sweep(now=now + timedelta(minutes=minutes)) == 0
    assert not Alert.objects.exists()


def test_the_used_minutes_are_announced_once_per_period_with_a_link_to_usage(
    org, owner, make_campaign
) -> None:
    with_quota(org, "warn", minutes=1)
    campaign = make_campaign(3, strategy={"respect_recipient_time_zone": False, "max_attempts": 1})
    campaign = services.campaign_start(campaign=campaign, by=owner)
    [first, *_] = dial(campaign)
    assert services.alerts_sweep(now=clock.now()) == 0  # nothing used yet
    talked(first, 90)
    assert services.alerts_sweep(now=clock.now()) == 1
    assert services.alerts_sweep(now=clock.now()) == 0
    [told] = notices(NotificationKind.QUOTA_SPENT)
    assert told.text.startswith("The 1 included minutes of ") and "calls go on (warn mode)" in told.text
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("campaigns:notifications")).content.decode()
    assert f'href="{reverse("campaigns:organization-settings")}"' in page


def test_a_failing_provider_is_announced_once_while_it_fails(running, owner) -> None:
    campaign = running(10, auto_pause_enabled=False)
    end_calls(campaign, [FAILED] * 4)
    assert services.alerts_sweep(now=clock.now()) == 0  # four failures: below the threshold (5)
    end_calls(campaign, [FAILED])
    assert services.alerts_sweep(now=clock.now()) == 1
    end_calls(campaign, [FAILED, FAILED])
    assert services.alerts_sweep(now=clock.now()) == 0  # the same occurrence, still failing
    [told] = notices(NotificationKind.PROVIDER_FAILING)
    assert told.text.startswith(
        f"Provider “{campaign.phone_number.provider_account.name}” is failing: 5 calls"
    )
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("campaigns:notifications")).content.decode()
    assert f'href="/app/providers/{told.target_id}"' in page
    # It recovers (calls go through again); a later failure is a new occurrence.
    end_calls(campaign, ["customer-ended-call"])
    services.alerts_sweep(now=clock.now())
    assert Alert.objects.get(kind=NotificationKind.PROVIDER_FAILING).closed_at is not None
