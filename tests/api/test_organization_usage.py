"""GET /organization/usage: the organization's calls, conversation minutes and costs this billing
period, its included minutes and quota; another organization's calls never count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns import clock, services
from campaigns.rules.usage import billing_period
from campaigns.services.inputs import CallEvent
from tests.compliance.conftest import dial

pytestmark = pytest.mark.django_db(transaction=True)


def talked(call, seconds: int, cost: str, unit: str = "USD") -> None:
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


def test_a_new_organization_has_used_nothing(api, org) -> None:
    body = api.get("/organization/usage").json()

    period = billing_period(clock.now(), 1)
    assert body == {
        "periodStart": f"{period.start:%Y-%m-%d}T00:00:00.000Z",  # Vapi's timestamps, in ms
        "periodEnd": f"{period.end:%Y-%m-%d}T00:00:00.000Z",
        "billingDayOfMonth": 1,
        "calls": 0,
        "usedConversationalMinutes": 0.0,
        "includedConversationalMinutes": None,
        "remainingConversationalMinutes": None,
        "quotaMode": "off",
        "quotaSpent": False,
        "quotaWarning": False,
        "dialingRefused": False,
        "costs": [],
    }


def test_usage_counts_this_periods_calls_and_says_when_the_quota_refuses_calls(
    api, other_api, org, owner, make_campaign
) -> None:
    org.billing_day, org.included_minutes, org.quota_mode = 1, 2, "pause"
    org.save()
    strategy = {"respect_recipient_time_zone": False, "max_attempts": 1}
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=strategy), by=owner)
    one, two, three = dial(campaign)
    talked(one, 60, "0.10")
    talked(two, 30, "0.05")

    body = api.get("/organization/usage").json()
    assert (body["calls"], body["usedConversationalMinutes"]) == (3, 1.5)
    assert (body["includedConversationalMinutes"], body["remainingConversationalMinutes"]) == (2, 0.5)
    assert (body["quotaSpent"], body["dialingRefused"]) == (False, False)
    assert body["costs"] == [{"amount": 0.15, "unit": "USD"}]

    talked(three, 45, "412", unit="credits")
    body = api.get("/organization/usage").json()
    assert (body["usedConversationalMinutes"], body["remainingConversationalMinutes"]) == (2.25, 0.0)
    assert (body["quotaSpent"], body["quotaWarning"], body["dialingRefused"]) == (True, True, True)
    assert body["costs"] == [{"amount": 0.15, "unit": "USD"}, {"amount": 412.0, "unit": "credits"}]

    theirs = other_api.get("/organization/usage").json()
    assert (theirs["calls"], theirs["costs"], theirs["quotaMode"]) == (0, [], "off")


def test_the_schema_documents_it(api) -> None:
    schema = api.get("/api/schema", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/organization/usage"]["get"]
    assert operation["operationId"] == "OrganizationController_usage"
    usage = schema["components"]["schemas"]["OrganizationUsage"]
    assert {"usedConversationalMinutes", "includedConversationalMinutes", "dialingRefused"} <= set(
        usage["properties"]
    )
