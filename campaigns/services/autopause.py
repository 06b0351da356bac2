"""A campaign pauses itself when its provider misbehaves (rules.autopause decides): read where
calls end (services.calls.record_call_event, which holds the campaign row), in its transaction.

The pause is the same state as a user's (the last gate lets no new call leave; calls in flight
finish and are recorded), with the reason kept on the campaign until someone resumes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from campaigns.models import Call, CallStatus, Campaign, CampaignStatus
from campaigns.rules.autopause import is_provider_failure, pause_reason
from campaigns.rules.policy import auto_pause_plan
from campaigns.services.alerts import notify_auto_paused
from campaigns.services.audit import audit_record
from campaigns.services.events import event_emit


def auto_pause_values(campaign: Campaign, call: Call, now: datetime) -> dict[str, Any] | None:
    """The campaign fields that pause it, when the call that just ended (a provider failure) tips
    its latest calls over the campaign's threshold; None otherwise (and for any call that is not a
    provider failure: only a failure can cross a threshold, so the others cost nothing)."""
    plan = auto_pause_plan(campaign)
    if not plan.enabled or campaign.status != CampaignStatus.IN_PROGRESS:
        return None
    if not is_provider_failure(call.ended_reason):
        return None
    latest = list(
        Call.objects.filter(campaign_id=campaign.pk, status=CallStatus.ENDED)
        .order_by("-created_at")
        .values_list("ended_reason", flat=True)[: plan.looks_at]
    )
    reason = pause_reason(latest, plan)
    if reason is None:
        return None
    return {"status": CampaignStatus.PAUSED, "paused_at": now, "auto_paused_reason": reason}


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
