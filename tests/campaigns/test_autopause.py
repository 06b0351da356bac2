"""A campaign pauses itself when its provider fails too often: decided where calls end, in the
transaction that records the call, with the reason kept, shown, audited and sent as an event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import services
from campaigns.models import AuditEvent, Call, Campaign, CampaignEvent
from dialer import claims
from dialer.dispatch import dispatch_campaign
from tests.campaigns.test_call_events import accept, counters, deliver, event, recount

FAILED = "call.in-progress.error-sip-outbound-call-failed-to-connect"
STRATEGY = {"respect_recipient_time_zone": False, "max_attempts": 1, "max_concurrent_calls": 10}
SERVER = {"url": "http://127.0.0.1:9/events"}


@pytest.fixture
def running(make_campaign, owner):
    def run(count: int = 8, **outcomes) -> Campaign:
        campaign = make_campaign(
            count,
            strategy=STRATEGY,
            outcomes=outcomes,
            server=SERVER,
        )
        campaign = services.campaign_start(campaign=campaign, by=owner)
        dispatch_campaign(campaign, enqueue=lambda ids: None)
        return campaign

    return run


def end_calls(campaign: Campaign, reasons: list[str]) -> None:
    """End the campaign's next queued calls, in the order the rule reads them, (created_at, id).

    Not by the customers' positions: one claim stamps its calls row by row and two can share a
    microsecond, and a call still ringing that sorts between two of these failures by id is a
    call placed between them (services.autopause), which was this helper's flake on PostgreSQL."""
    calls = Call.objects.filter(campaign=campaign, status="queued").order_by("created_at", "id")
    for call, reason in zip(calls, reasons, strict=False):
        call = accept(call, f"prov-{call.pk}")
        deliver(call, event(call, "status-update", "ended", ended_reason=reason))


def test_a_run_of_provider_failures_pauses_the_campaign_with_why(running, client: Client, owner):
    campaign = running(auto_pause_consecutive=3)
    end_calls(campaign, [FAILED, FAILED])
    campaign.refresh_from_db()
    assert campaign.status == "in-progress"
    end_calls(campaign, [FAILED])  # the third failure in a row
    campaign.refresh_from_db()
    assert campaign.status == "paused" and campaign.paused_at is not None
    assert campaign.auto_paused_reason.startswith("3 calls in a row failed at the provider")
    assert counters(campaign) == recount(campaign)  # the pause rode on the counters' UPDATE
    audit = AuditEvent.objects.get(action="campaign.auto_pause")
    assert audit.after["reason"] == campaign.auto_paused_reason
    [sent] = CampaignEvent.objects.filter(campaign=campaign, event_type="campaign.auto-paused")
    assert sent.data == {"reason": campaign.auto_paused_reason}  # sent though serverMessages did not ask
    # Shown on the page, and the API's document says why.
    client.force_login(owner)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Paused by itself: 3 calls in a row failed at the provider" in page
    # Resuming clears the reason.
    resumed = services.campaign_resume(campaign=campaign, by=owner)
    assert (resumed.status, resumed.auto_paused_reason) == ("in-progress", "")


@pytest.mark.parametrize(
    "apart", [timedelta(milliseconds=1), timedelta(0)], ids=["a-ms-apart", "same-instant"]
)
def test_failures_that_end_first_among_calls_still_ringing_are_no_run(running, apart):
    """Regression (a 500-customer campaign paused itself under load): a provider's refusal ends in
    a second, an answered call in minutes, so the first calls of a burst to end are its failures.
    Failures placed apart, with calls still in flight between them, are no run.

    Regression (same-instant): one claim writes its calls in one statement, each stamped by the
    clock as it is built, and two can share a microsecond. Calls placed at one instant are read
    in one order all the same, (created_at, id): a call in flight tied with the oldest or the
    newest failure is among them, and the failures are no run."""
    campaign = running(10, auto_pause_consecutive=3)
    calls = sorted(Call.objects.filter(campaign=campaign), key=lambda call: call.pk)
    for i, call in enumerate(calls):
        call.created_at = calls[0].created_at + apart * i
        Call.objects.filter(pk=call.pk).update(created_at=call.created_at)
    placed = list(Call.objects.filter(campaign=campaign).order_by("created_at", "id"))
    assert placed == calls  # placed one after another, in this order
    assert len({call.created_at for call in placed}) == (1 if not apart else len(calls))

    def fail(*positions: int) -> str:
        for position in positions:
            call = accept(calls[position], f"prov-{calls[position].pk}")
            deliver(call, event(call, "status-update", "ended", ended_reason=FAILED))
        campaign.refresh_from_db()
        return campaign.status

    assert fail(0, 2, 4, 6) == "in-progress"  # four failures, each with a call in flight beside it
    assert fail(1, 3) == "in-progress"  # 0-4 failed in a row, but 5 is still in flight before 6
    assert fail(5) == "paused"  # 0-6: seven placed in a row, all failed
    assert campaign.auto_paused_reason.startswith("7 calls in a row failed at the provider")


def test_an_error_rate_over_the_window_pauses_it(running):
    campaign = running(10, auto_pause_window=5, auto_pause_error_rate=60, auto_pause_consecutive=10)
    end_calls(campaign, [FAILED, "customer-ended-call", FAILED, "customer-busy", FAILED])
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert campaign.auto_paused_reason.startswith("3 of the last 5 calls failed at the provider (60%")


def test_callees_not_answering_never_pause_it(running):
    campaign = running(8, auto_pause_consecutive=2, auto_pause_window=5, auto_pause_error_rate=1)
    end_calls(
        campaign, ["customer-did-not-answer", "customer-busy", "voicemail", "customer-did-not-answer"] * 2
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.auto_paused_reason) == ("in-progress", "")


def test_a_campaign_that_opted_out_of_it_keeps_calling(running):
    campaign = running(auto_pause_enabled=False, auto_pause_consecutive=2)
    end_calls(campaign, [FAILED] * 5)
    campaign.refresh_from_db()
    assert campaign.status == "in-progress"


def test_once_paused_no_queued_call_passes_the_gate_and_none_is_dispatched(running):
    campaign = running(12, auto_pause_consecutive=2)
    end_calls(campaign, [FAILED, FAILED])
    queued = Call.objects.filter(campaign=campaign, status="queued").order_by("created_at").first()
    [taken] = claims.take([queued.pk])
    assert claims.confirm_at_gate([(taken, "POST /call", "{}")]) == []
    campaign.refresh_from_db()
    before = Call.objects.filter(campaign=campaign).count()
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    assert Call.objects.filter(campaign=campaign).count() == before


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"auto_pause_window": 4}, "auto_pause_window"),
        ({"auto_pause_error_rate": 0}, "auto_pause_error_rate"),
        ({"auto_pause_consecutive": 1}, "auto_pause_consecutive"),
        ({"auto_pause_enabled": "yes"}, "auto_pause_enabled"),
    ],
)
def test_settings_out_of_bounds_are_refused_naming_the_field(make_campaign, values, field):
    with pytest.raises(services.ValidationFailed) as caught:
        make_campaign(2, outcomes=values)
    assert [e.field for e in caught.value.errors] == [field]
    assert not Campaign.objects.exists()


def test_a_provider_account_failing_across_campaigns_pauses_every_campaign_it_dials_for(
    running, make_campaign
):
    """Failures spread over two campaigns (never enough in one to pause it by itself) are a run at
    their shared provider account: both pause, each told why; a campaign with the automatic pause
    off keeps calling."""
    first, second = running(3), running(3)  # placed one after the other, all failing as they end
    opted_out = running(auto_pause_enabled=False)
    for _ in range(2):
        end_calls(first, [FAILED])
        end_calls(second, [FAILED])
    for campaign in (first, second):
        campaign.refresh_from_db()
        assert campaign.status == "in-progress"  # 2 failures each; 4 in a row at the account
    end_calls(first, [FAILED])  # the fifth in a row at the account (the default run)
    for campaign in (first, second):
        campaign.refresh_from_db()
        assert campaign.status == "paused"
        assert campaign.auto_paused_reason.startswith("provider account ")
        assert "5 calls in a row failed at the provider" in campaign.auto_paused_reason
        assert CampaignEvent.objects.filter(campaign=campaign, event_type="campaign.auto-paused").count() == 1
        assert counters(campaign) == recount(campaign)
    opted_out.refresh_from_db()
    assert opted_out.status == "in-progress"
    assert AuditEvent.objects.filter(action="campaign.auto_pause").count() == 2
