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

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from campaigns.models import (
    COUNTER_FIELDS,
    OUTCOME_COUNTER_FIELDS,
    Call,
    Campaign,
    CampaignStatus,
    Customer,
    CustomerState,
)
from campaigns.rules.contacts import BUCKETS
from campaigns.rules.outcomes import OutcomeClass
from campaigns.rules.reasons import Reason

# Pending customers examined by the why-not-dialing panel, earliest due first.
WAITING_SAMPLE = 10_000
CHART_CACHE_SECONDS = 10
WAITING_CACHE_SECONDS = 3
# A scheduled campaign that starts by itself within this long is watched by the pages.
SOON = timedelta(minutes=10)


# -- polling ----------------------------------------------------------------------------------------


def is_watched(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether a page showing this campaign should keep polling it.

    Running or paused, or scheduled to start by itself soon, or with calls still under way
    (after an end, calls in flight finish and their outcomes keep moving the counters); never
    once it has ended and nothing is live. No query.
    """
    if campaign.calls_scheduled + campaign.calls_queued + campaign.calls_in_progress > 0:
        return True
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
        + ":".join(str(getattr(c, f)) for f in (*COUNTER_FIELDS, *OUTCOME_COUNTER_FIELDS, *BUCKETS))
        + f":{c.customers_dialed}:{c.customers_connected}:{c.calls_cost}"
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


# Reasons that hold a customer only until their next_attempt_at: once it has come, the customer is
# due (the dialer looks at them again), whatever was stored. The others (unknown time zone) stay.
_DUE_WHEN_TIME_COMES = frozenset(
    {
        "",
        Reason.CAMPAIGN_PAUSED,
        Reason.ORGANIZATION_PAUSED,
        Reason.CAMPAIGN_NOT_RUNNING,
        Reason.SCHEDULE_NOT_STARTED,
        Reason.OUTSIDE_CALLING_HOURS,
        Reason.RETRY_DELAY,
        Reason.RECIPIENT_LOCAL_TIME,
    }
)


def customers_waiting_by_reason(campaign: Campaign, now: datetime | None = None) -> list[WaitingGroup]:
    """Pending customers per reason, with the earliest time each group may be dialed.

    Customers whose time has come are in the "" group (due now) whatever reason the dialer last
    stored for them: it only looks at them again then, and the page says what holds the due ones
    back (selectors.campaign_activity). Reads at most WAITING_SAMPLE pending customers in
    next_attempt_at order through the dialer's partial index (about 40 ms on PostgreSQL at a
    million customers), so the earliest time of every group is exact and counts are exact below
    the sample size (lower bounds above it). Groups come earliest first. Shared for a few seconds
    by every page showing the campaign.
    """
    now = now or timezone.now()
    key = f"dashboard:waiting:{campaign.pk}:{campaign.status}:{int(now.timestamp() // WAITING_CACHE_SECONDS)}"
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
        if due <= now and reason in _DUE_WHEN_TIME_COMES:
            reason = ""
        counts[reason] = counts.get(reason, 0) + 1
        first.setdefault(reason, due)
    cut = rows >= WAITING_SAMPLE
    groups = [WaitingGroup(reason, counts[reason], at, cut) for reason, at in first.items()]
    caches["pages"].set(key, groups, WAITING_CACHE_SECONDS)
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


_OUTCOME_COLUMNS = (
    (OutcomeClass.ANSWERED, "calls_ended_answered"),
    (OutcomeClass.VOICEMAIL, "calls_ended_voicemail"),
    (OutcomeClass.NO_ANSWER, "calls_ended_no_answer"),
    (OutcomeClass.BUSY, "calls_ended_busy"),
    (OutcomeClass.FAILED, "calls_ended_failed"),
)


def outcome_breakdown(campaign: Campaign) -> list[OutcomeSlice]:
    """Ended calls per outcome class, largest first, from the campaign's stored outcome counters
    (rules.outcomes.OUTCOME_COUNTERS: opted out counts as answered, cancelled as failed). No query."""
    total = campaign.calls_ended or 1
    counts = [(outcome, getattr(campaign, column)) for outcome, column in _OUTCOME_COLUMNS]
    return [
        OutcomeSlice(outcome, OUTCOME_LABELS[outcome], n, n / total)
        for outcome, n in sorted(counts, key=lambda item: -item[1])
        if n
    ]


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
