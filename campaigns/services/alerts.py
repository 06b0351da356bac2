"""Alerts: what a supervisor must not miss, announced once per occurrence.

A sweep (beat, dialer.tasks.sweep_alerts) looks for the conditions that last: a running campaign
with customers left and nobody callable (rules.activity's NOBODY_DUE), an organization whose
included minutes are used (rules.usage, in warn or pause mode), a provider account whose latest
calls fail (rules.alerts). Each occurrence is one Alert row: opened when first seen, announced
to the organization's members once (rules.alerts.is_due: nobody-callable ones after a few
minutes), closed when the condition no longer holds, so the next occurrence is announced again.
An automatic pause is an event, not a condition: services.autopause announces it as it happens.

Two sweeps at once are harmless: the partial unique constraint allows one open alert per key, and
announcing is a conditional UPDATE (notified_at still empty) that one of them wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from campaigns.models import (
    Alert,
    Call,
    CallStatus,
    Campaign,
    CampaignStatus,
    NotificationKind,
    Organization,
    ProviderAccount,
)
from campaigns.rules import activity, alerts, usage
from campaigns.selectors.usage import organization_usage
from campaigns.selectors.wallboard import campaign_activity
from campaigns.services.notifications import notify_members

SWEPT = (NotificationKind.NOBODY_CALLABLE, NotificationKind.QUOTA_SPENT, NotificationKind.PROVIDER_FAILING)


@dataclass(frozen=True)
class Condition:
    organization_id: object
    kind: str
    key: str
    text: str
    subject: str
    campaign: Campaign | None = None
    target_id: str = ""


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "no time yet"


def nobody_callable(now: datetime) -> list[Condition]:
    """Running campaigns with customers left, no call under way and nobody due (their hours, their
    zones, blackout dates or retry delays hold every one of them back)."""
    found = []
    rows = Campaign.objects.filter(
        status=CampaignStatus.IN_PROGRESS,
        deleted_at__isnull=True,
        customers_pending__gt=0,
        calls_scheduled=0,
        calls_queued=0,
        calls_in_progress=0,
    ).select_related("organization", "phone_number")
    for campaign in rows:
        doing = campaign_activity(campaign, now)
        if doing.code != activity.NOBODY_DUE:
            continue
        found.append(
            Condition(
                campaign.organization_id,
                NotificationKind.NOBODY_CALLABLE,
                f"nobody-callable:{campaign.pk}",
                f"“{campaign.name}” is running with {campaign.customers_pending:,} customers left and "
                f"nobody callable: the next one may be called at {_when(doing.until)}.",
                f"Dialdeck: nobody callable in {campaign.name}",
                campaign=campaign,
            )
        )
    return found


def quota_spent(now: datetime) -> list[Condition]:
    """Organizations whose included minutes of the current period are used (warn or pause mode)."""
    found = []
    watched = Organization.objects.filter(included_minutes__isnull=False).exclude(
        quota_mode=usage.QuotaMode.OFF
    )
    for organization in watched:
        used = organization_usage(organization, now)
        if not used.quota.warn:
            continue
        then = (
            "new calls are refused until the next period or more minutes are included"
            if used.quota.refuses_calls
            else "calls go on (warn mode)"
        )
        found.append(
            Condition(
                organization.pk,
                NotificationKind.QUOTA_SPENT,
                f"quota-spent:{organization.pk}:{used.period.start:%Y-%m-%d}",
                f"The {organization.included_minutes:,} included minutes of "
                f"{usage.period_label(used.period)} are used: {then}.",
                "Dialdeck: included minutes used",
            )
        )
    return found


def providers_failing(now: datetime) -> list[Condition]:
    """Provider accounts whose latest calls (within rules.alerts.PROVIDER_WINDOW) fail."""
    found = []
    since = now - alerts.PROVIDER_WINDOW
    for account in ProviderAccount.objects.filter(deleted_at__isnull=True):
        latest = list(
            Call.objects.filter(
                organization_id=account.organization_id,
                created_at__gte=since,
                provider_account=account,
                status=CallStatus.ENDED,
            )
            .order_by("-created_at", "-id")  # the order placed (ties within a claim: autopause._decide)
            .values_list("ended_reason", flat=True)[: alerts.PROVIDER_PLAN.looks_at]
        )
        why = alerts.provider_failing(latest)
        if why is None:
            continue
        found.append(
            Condition(
                account.organization_id,
                NotificationKind.PROVIDER_FAILING,
                f"provider-failing:{account.pk}",
                f"Provider “{account.name}” is failing: {why}.",
                f"Dialdeck: provider {account.name} is failing",
                target_id=str(account.pk),
            )
        )
    return found


def alerts_sweep(*, now: datetime) -> int:
    """Open, announce and close alerts for what holds at `now`; returns how many were announced."""
    holding = [*nobody_callable(now), *quota_spent(now), *providers_failing(now)]
    keys = {(c.organization_id, c.key) for c in holding}
    for alert in Alert.objects.filter(closed_at__isnull=True, kind__in=SWEPT):
        if (alert.organization_id, alert.key) not in keys:
            Alert.objects.filter(pk=alert.pk, closed_at__isnull=True).update(closed_at=now)
    return sum(_raise(condition, now) for condition in holding)


@transaction.atomic
def _raise(condition: Condition, now: datetime) -> bool:
    """Open the condition's alert if none is open, and announce it once it is due. Returns
    whether this call announced it."""
    alert = Alert.objects.filter(
        organization_id=condition.organization_id, key=condition.key, closed_at__isnull=True
    ).first()
    if alert is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    organization_id=condition.organization_id,
                    kind=condition.kind,
                    key=condition.key,
                    opened_at=now,
                )
        except IntegrityError:  # another sweep opened it meanwhile: it is theirs to announce
            return False
    if alert.notified_at is not None or not alerts.is_due(alert.kind, alert.opened_at, now):
        return False
    if not Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=now):
        return False
    notify_members(
        organization_id=condition.organization_id,
        kind=condition.kind,
        text=condition.text,
        subject=condition.subject,
        campaign=condition.campaign,
        target_id=condition.target_id,
    )
    return True


def notify_auto_paused(*, campaign: Campaign, reason: str) -> int:
    """Announce an automatic pause (one per pause: it happens once, in the recording that made it)."""
    return notify_members(
        organization_id=campaign.organization_id,
        kind=NotificationKind.AUTO_PAUSED,
        text=f"“{campaign.name}” paused itself: {reason}. Check the provider, then press Resume.",
        subject=f"Dialdeck: {campaign.name} paused itself",
        campaign=campaign,
    )
