"""A campaign pauses itself when its provider misbehaves (rules.autopause decides): read where
calls end (services.calls.record_call_event, which holds the campaign row), in its transaction.
A provider account that misbehaves across campaigns (its latest calls, whichever campaign made
them, cross the default thresholds) pauses every running campaign that dials through it and has
the automatic pause on.

The pause is the same state as a user's (the last gate lets no new call leave; calls in flight
finish and are recorded), with the reason kept on the campaign until someone resumes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from campaigns.models import Call, CallStatus, Campaign, CampaignStatus
from campaigns.rules.autopause import AutoPause, is_provider_failure, pause_reason
from campaigns.rules.policy import auto_pause_plan
from campaigns.selectors.common import earlier_than, later_than
from campaigns.services.alerts import notify_auto_paused
from campaigns.services.audit import audit_record
from campaigns.services.events import event_emit
from campaigns.services.tx import lock_campaigns


def auto_pause_values(campaign: Campaign, call: Call, now: datetime) -> dict[str, Any] | None:
    """The campaign fields that pause it, when the call that just ended (a provider failure) tips
    its latest calls over the campaign's threshold; None otherwise (and for any call that is not a
    provider failure: only a failure can cross a threshold, so the others cost nothing)."""
    plan = auto_pause_plan(campaign)
    if not plan.enabled or campaign.status != CampaignStatus.IN_PROGRESS:
        return None
    if not is_provider_failure(call.ended_reason):
        return None
    reason = _decide(Call.objects.filter(campaign_id=campaign.pk, direction="outbound"), plan)
    if reason is None:
        return None
    return {"status": CampaignStatus.PAUSED, "paused_at": now, "auto_paused_reason": reason}


# The latest calls an account's pause reads, and the campaigns it reaches: those that placed a
# call through the account within this long.
ACCOUNT_PLAN = AutoPause()
ACCOUNT_REACH = timedelta(hours=24)


def account_auto_pause(call: Call, now: datetime) -> dict[object, str]:
    """When the call that just ended (a provider failure) tips its provider account's latest calls,
    across campaigns, over ACCOUNT_PLAN's thresholds: pause every running campaign with the
    automatic pause on that dialed through the account lately (their rows locked in the house
    order: tx.lock_campaigns, which never waits for one before a row the caller holds). Returns
    {campaign id: reason} of the campaigns paused here (each reported: event and audit)."""
    account = call.provider_account
    why = _decide(Call.objects.filter(provider_account=account), ACCOUNT_PLAN)
    if why is None:
        return {}
    reason = f"provider account {account.name}: {why}"[:200]
    reached = Call.objects.filter(provider_account=account, created_at__gte=now - ACCOUNT_REACH)
    running = Campaign.objects.filter(
        pk__in=reached.values("campaign_id"), status=CampaignStatus.IN_PROGRESS, auto_pause_enabled=True
    )
    ids = list(running.values_list("pk", flat=True))
    lock_campaigns(ids, "no_key_update")
    paused = {}
    for campaign in Campaign.objects.select_related("organization").filter(
        pk__in=ids, status=CampaignStatus.IN_PROGRESS
    ):
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.PAUSED, paused_at=now, auto_paused_reason=reason
        )
        auto_pause_report(campaign, reason, now)
        paused[campaign.pk] = reason
    return paused


def _decide(calls: QuerySet[Call], plan: AutoPause) -> str | None:
    """rules.autopause's decision over the latest of `calls` in the order they were placed, from
    the newest ended one, each still in flight among them read as None. The calls in flight are
    asked for only when the ended ones alone would pause (they can only lift a pause), so the
    decision costs one query a failure, and two when it is close.

    The order is (created_at, id), total: one claim writes many calls, and two can share a
    microsecond; a call in flight tied with the oldest or newest failure is still among them."""
    ended = list(
        calls.filter(status=CallStatus.ENDED)
        .order_by("-created_at", "-id")
        .values_list("created_at", "id", "ended_reason")[: plan.looks_at]
    )
    if pause_reason([reason for *_, reason in ended], plan) is None:
        return None
    (oldest_at, oldest), (newest_at, newest) = ended[-1][:2], ended[0][:2]
    between = calls.exclude(status=CallStatus.ENDED).filter(
        later_than(oldest_at, oldest), earlier_than(newest_at, newest)
    )
    in_flight = [(at, pk, None) for at, pk in between.values_list("created_at", "id")]
    latest = sorted(ended + in_flight, key=lambda row: row[:2], reverse=True)
    return pause_reason([reason for *_, reason in latest], plan)


def auto_pause_report(campaign: Campaign, reason: str, now: datetime) -> None:
    """The event (campaign.auto-paused, sent to the campaign's server whenever it has one: Dialdeck's
    own, models.events.ALWAYS_SENT), the audit of a pause the campaign made itself, and the notice
    to the organization's members."""
    event_emit(campaign=campaign, event_type="campaign.auto-paused", data={"reason": reason}, at=now)
    audit_record(
        organization=campaign.organization,
        by=None,
        action="campaign.auto_pause",
        target=campaign,
        before={"status": CampaignStatus.IN_PROGRESS},
        after={"status": CampaignStatus.PAUSED, "reason": reason},
    )
    notify_auto_paused(campaign=campaign, reason=reason)
