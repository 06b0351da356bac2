"""What only the dashboard's live monitoring reads: whether a page keeps polling, the fingerprint
of its live fragments, why customers wait, and the charts.

Built to stay cheap at a million customers: the fragments polled every two seconds read only
the campaign's stored columns (the five counters, customers_total, customers_final), never a
COUNT(*) of customers or calls; the heavier aggregates (outcomes, calls per minute, customers
waiting per reason) read a bounded slice through an index and are cached for a few seconds per
campaign in `caches["pages"]`, so ten open tabs cost what one does. Nothing here writes to the
database.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from campaigns.models import (
    COUNTER_FIELDS,
    Call,
    CallStatus,
    Campaign,
    CampaignStatus,
    Customer,
    CustomerState,
)
from campaigns.rules.outcomes import OutcomeClass, classify

# Pending customers examined by the why-not-dialing panel, earliest due first.
WAITING_SAMPLE = 10_000
CHART_CACHE_SECONDS = 10
# A scheduled campaign that starts by itself within this long is watched by the pages.
SOON = timedelta(minutes=10)


# -- polling ----------------------------------------------------------------------------------------


def is_watched(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether a page showing this campaign should keep polling it.

    Running or paused (calls in flight still finish), or scheduled to start by
    itself soon; never once it has ended. No query.
    """
    if campaign.status in (CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED):
        return True
    if campaign.status == CampaignStatus.SCHEDULED and campaign.auto_start:
        now = now or timezone.now()
        return campaign.earliest_at is None or campaign.earliest_at <= now + SOON
    return False


def live_version(*campaigns: Campaign) -> str:
    """A short fingerprint of what the live fragments (status, counters, progress) show of
    `campaigns`, so a poll that changes nothing swaps nothing. No query."""
    parts = [
        f"{c.pk}:{c.status}:{c.waiting_reason}:{c.waiting_until}:{c.customers_final}:{c.customers_total}:"
        + ":".join(str(getattr(c, f)) for f in COUNTER_FIELDS)
        for c in campaigns
    ]
    return f"{zlib.crc32('|'.join(parts).encode()):08x}"


# -- the why-not-dialing panel ---------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingGroup:
    reason: str  # a rules.reasons.Reason value, or "" for customers due now
    count: int
    next_at: datetime | None  # the earliest next_attempt_at in the group
    at_least: bool  # True when the sample was cut: count is a lower bound


def customers_waiting_by_reason(campaign: Campaign) -> list[WaitingGroup]:
    """Pending customers per reason, with the earliest time each group may be dialed.

    Reads at most WAITING_SAMPLE pending customers in next_attempt_at order
    through the dialer's partial index (about 40 ms on PostgreSQL at a million
    customers), so the earliest time of every group is exact and counts are
    exact below the sample size (lower bounds above it). Groups come earliest
    first. Shared for a few seconds by every page showing the campaign.
    """
    key = f"dashboard:waiting:{campaign.pk}:{campaign.status}:{int(time.time() // CHART_CACHE_SECONDS)}"
    cached = caches["pages"].get(key)
    if cached is not None:
        return cached
    sample = (
        Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING)
        .order_by("next_attempt_at", "sort_key")
        .values_list("reason", "next_attempt_at")[:WAITING_SAMPLE]
    )
    counts: dict[str, int] = {}
    first: dict[str, datetime] = {}  # rows come earliest first: a group's first row is its earliest
    rows = 0
    for reason, due in sample:
        rows += 1
        counts[reason] = counts.get(reason, 0) + 1
        first.setdefault(reason, due)
    cut = rows >= WAITING_SAMPLE
    groups = [WaitingGroup(reason, counts[reason], at, cut) for reason, at in first.items()]
    caches["pages"].set(key, groups, CHART_CACHE_SECONDS)
    return groups


# -- charts ---------------------------------------------------------------------------------------

OUTCOME_LABELS = {
    OutcomeClass.ANSWERED: "Answered",
    OutcomeClass.VOICEMAIL: "Voicemail",
    OutcomeClass.NO_ANSWER: "No answer",
    OutcomeClass.BUSY: "Busy",
    OutcomeClass.FAILED: "Failed",
    OutcomeClass.OPT_OUT: "Opted out",
    OutcomeClass.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class OutcomeSlice:
    outcome: str
    label: str
    count: int
    share: float  # 0..1 of the campaign's ended calls


def outcome_breakdown(campaign: Campaign) -> list[OutcomeSlice]:
    """Ended calls per outcome class (rules.outcomes.classify of their endedReason), largest first.

    Cached per campaign and per value of its calls_ended counter: ended calls
    never change outcome, so an unchanged counter means an unchanged answer.
    """
    key = f"dashboard:outcomes:{campaign.pk}:{campaign.calls_ended}"
    cached = caches["pages"].get(key)
    if cached is not None:
        return cached
    counts: dict[str, int] = {}
    rows = (
        Call.objects.filter(campaign=campaign, status=CallStatus.ENDED)
        .values("ended_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        outcome = classify(row["ended_reason"])
        counts[outcome] = counts.get(outcome, 0) + row["n"]
    total = sum(counts.values()) or 1
    slices = [
        OutcomeSlice(outcome, OUTCOME_LABELS[outcome], n, n / total)
        for outcome, n in sorted(counts.items(), key=lambda item: -item[1])
    ]
    caches["pages"].set(key, slices, 60 * 60)
    return slices


def calls_per_minute(campaign: Campaign, *, minutes: int = 30, now: datetime | None = None) -> list[int]:
    """Calls started in each of the last `minutes` minutes, oldest first (the last is the current one).

    One indexed range scan over (campaign, created_at), cached until a minute
    passes or the campaign's calls change (the sum of its live and ended counters).
    """
    now = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    calls = sum(getattr(campaign, f) for f in COUNTER_FIELDS if f != "calls_ended_voicemail")
    key = f"dashboard:cpm:{campaign.pk}:{minutes}:{now:%Y%m%d%H%M}:{calls}"
    cached = caches["pages"].get(key)
    if cached is not None:
        return cached
    since = now - timedelta(minutes=minutes - 1)
    rows = (
        Call.objects.filter(campaign=campaign, created_at__gte=since)
        .annotate(minute=TruncMinute("created_at", tzinfo=UTC))
        .values("minute")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_minute = {row["minute"]: row["n"] for row in rows}
    series = [by_minute.get(since + timedelta(minutes=i), 0) for i in range(minutes)]
    caches["pages"].set(key, series, 60)
    return series
