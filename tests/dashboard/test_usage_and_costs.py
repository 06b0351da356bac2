"""Cost and usage in the dashboard: the campaign's costs per provider account, the CSV export's
cost columns, and the organization's usage this billing period with its quota.

Calls are placed through the real dispatcher, gate and simulated provider; their costs arrive as
the providers' end-of-call reports, through services.record_call_event.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns import clock, services
from campaigns.models import Call, PhoneNumber, ProviderAccount
from campaigns.services.inputs import CallEvent
from tests.compliance.conftest import dial
from tests.conftest import customers

pytestmark = pytest.mark.django_db(transaction=True)

ANY_HOUR = {"respect_recipient_time_zone": False, "max_attempts": 1}
SETTINGS = reverse("campaigns:organization-settings")


def talked(call: Call, seconds: int, cost: str, unit: str) -> None:
    ended = clock.now()
    event = CallEvent(
        kind="end-of-call-report",
        status="ended",
        call_id=str(call.pk),
        ended_reason="customer-ended-call",
        started_at=ended - timedelta(seconds=seconds),
        ended_at=ended,
        cost=Decimal(cost),
        cost_unit=unit,
    )
    services.record_call_event(account=call.provider_account, event=event)


@pytest.fixture
def split(org, owner, make_campaign):
    """A campaign whose customers are split across two provider accounts (a dial plan), called once,
    each call reported: A's in dollars, B's in credits (as ElevenLabs counts)."""
    b = ProviderAccount.objects.create(organization=org, name="B agent", kind="simulated")
    b_caller = PhoneNumber.objects.create(organization=org, provider_account=b, number="+14155550122")
    a_caller = PhoneNumber.objects.get(organization=org, number="+14155550100")
    a_caller.provider_account.name = "A agent"
    a_caller.provider_account.save()
    data = services.CampaignInput(
        name="A/B",
        assistant_id="asst-1",
        dial_plan=[
            services.DialPlanInput(str(a_caller.pk), customers(2)),
            services.DialPlanInput(str(b_caller.pk), customers(1, start=50)),
        ],
        strategy=ANY_HOUR,
    )
    campaign = services.campaign_create(organization=org, by=owner, data=data)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    calls = dial(campaign)
    assert len(calls) == 3
    for call in calls:
        if call.provider_account_id == b.pk:
            talked(call, 120, "412", "credits")
        else:
            talked(call, 30, "0.1250", "USD")
    return campaign


def test_the_campaign_page_shows_the_cost_per_provider_account(split, as_owner, caller_id) -> None:
    page = as_owner.get(reverse("campaigns:detail", args=[split.pk])).content.decode()

    section = page[page.index('id="campaign-costs"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", section, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert text == [
        "A agent Simulated (no real calls) 2 1.0 $0.25",
        "B agent Simulated (no real calls) 1 2.0 412 credits",
    ]
    assert "Total: $0.25, 412 credits." in section


def test_the_export_gives_each_customers_cost_with_its_unit(split, as_owner) -> None:
    response = as_owner.get(reverse("campaigns:export", args=[split.pk]))
    found = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    by_number = {row["number"]: (row["cost"], row["costUnit"]) for row in found}
    assert by_number == {
        "+14155550000": ("0.1250", "USD"),
        "+14155550001": ("0.1250", "USD"),
        "+14155550050": ("412.0000", "credits"),
    }


def test_the_organization_page_shows_this_periods_usage_and_a_spent_quota(split, org, as_owner) -> None:
    org.included_minutes, org.quota_mode = 3, "pause"
    org.save()

    page = as_owner.get(SETTINGS).content.decode()

    usage = page[page.index('id="usage"') :]
    assert re.search(r'id="usage-calls">3<', usage)
    assert re.search(r'id="usage-minutes">3.0<', usage)
    assert re.search(r'id="usage-cost">\$0.25, 412 credits<', usage)
    assert "The 3 included minutes are used." in usage
    assert "No campaign starts a new call until the next period" in usage


def test_a_quota_not_yet_spent_shows_what_is_left_and_no_warning(split, org, as_manager) -> None:
    org.included_minutes, org.quota_mode = 10, "warn"
    org.save()

    page = as_manager.get(reverse("campaigns:organization-pause")).content.decode()

    assert "10 (7.0 left)" in page
    assert 'id="quota-warning"' not in page


@pytest.mark.parametrize(
    ("amount", "unit", "shown"),
    [
        ("0.2500", "USD", "$0.25"),
        ("0.0125", "USD", "$0.0125"),
        ("0.3000", "EUR", "0.30 EUR"),
        ("412.0000", "credits", "412 credits"),
        ("0.5000", "credits", "0.5 credits"),
        (None, "", ""),
    ],
)
def test_a_cost_reads_with_its_unit(amount, unit, shown) -> None:
    from campaigns.selectors import Cost
    from campaigns.templatetags.dialdeck import cost

    assert cost(Cost(Decimal(amount) if amount else None, unit)) == shown
