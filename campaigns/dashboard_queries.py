"""Read queries of the dashboard. Nothing here writes; every query is scoped by its caller's campaign
or organization.

Built to stay cheap at a million customers: the fragments polled every two
seconds read only the campaign's stored columns (the five counters,
customers_total, customers_final); lists page by an indexed key, never by
OFFSET over a large table and never with a COUNT(*) of it; the heavier
aggregates (outcomes, calls per minute, customers waiting per reason) read a
bounded slice through an index and are cached for a few seconds per campaign,
so ten open tabs cost what one does.
"""

from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.db.models import Count, Q, QuerySet
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
    DoNotCall,
    Organization,
)
from campaigns.rules.outcomes import OutcomeClass, classify

# Pending customers examined by the why-not-dialing panel, earliest due first.
WAITING_SAMPLE = 10_000
CHART_CACHE_SECONDS = 10
# A scheduled campaign that starts by itself within this long is watched by the pages.
SOON = timedelta(minutes=10)
# Customer.position is a BigIntegerField (signed 64-bit); positions start at 0.
POSITION_MAX = 2**63 - 1


# -- campaigns -------------------------------------------------------------------------------------


def campaign_rows(organization: Organization, *, status: str = "", search: str = "") -> QuerySet[Campaign]:
    """The campaigns list: the organization's live campaigns, newest first, filtered."""
    campaigns = Campaign.objects.filter(organization=organization, deleted_at__isnull=True)
    if status:
        campaigns = campaigns.filter(status=status)
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    return campaigns.select_related("phone_number").order_by("-created_at", "-id")


def campaign_for(organization: Organization, pk: object) -> Campaign | None:
    """One live campaign of the organization, with what its pages show alongside it."""
    return (
        Campaign.objects.select_related("organization", "phone_number", "created_by")
        .filter(organization=organization, pk=pk, deleted_at__isnull=True)
        .first()
    )


def is_watched(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether a page showing this campaign should keep polling it.

    Running or paused (calls in flight still finish), or scheduled to start by
    itself soon; never once it has ended.
    """
    if campaign.status in (CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED):
        return True
    if campaign.status == CampaignStatus.SCHEDULED and campaign.auto_start:
        now = now or timezone.now()
        return campaign.earliest_at is None or campaign.earliest_at <= now + SOON
    return False


def version(*campaigns: Campaign) -> str:
    """A short fingerprint of what the live fragments show, so a poll that changes nothing swaps nothing."""
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


# -- customers and calls, paged by an indexed key -------------------------------------------------


@dataclass
class Page:
    """One page of a keyset-paged list: rows, and the keys of the pages around it (None: none)."""

    rows: list
    newer: str | None = None  # customers: the previous page; calls: newer calls
    older: str | None = None  # customers: the next page; calls: older calls


def customers_page(
    campaign: Campaign,
    *,
    state: str = "",
    reason: str = "",
    after: int | None = None,
    before: int | None = None,
    size: int = 25,
) -> Page:
    """Customers in submission order from (campaign, position), `size` at a time.

    `after=p` is the page following position p, `before=p` the one preceding it.
    One query, no COUNT: the page knows whether a neighbour exists by reading one row more.
    A position outside the column's range (a link edited by hand) reads as no position:
    the first page.
    """
    after, before = _position(after), _position(before)
    rows = Customer.objects.filter(campaign=campaign).defer("assistant_overrides")
    if state:
        rows = rows.filter(state=state)
    if reason:
        rows = rows.filter(reason=reason)
    if before is not None:
        found = list(rows.filter(position__lt=before).order_by("-position")[: size + 1])
        more = len(found) > size
        found = list(reversed(found[:size]))
        return Page(
            found,
            newer=str(found[0].position) if more and found else None,
            older=str(found[-1].position) if found else None,
        )
    if after is not None:
        rows = rows.filter(position__gt=after)
    found = list(rows.order_by("position")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=str(found[0].position) if after is not None and found else None,
        older=str(found[-1].position) if more else None,
    )


def _position(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= POSITION_MAX else None


def _key(row: Call | DoNotCall) -> str:
    return f"{row.created_at.isoformat()}~{row.pk}"


def _parse_key(key: str) -> tuple[datetime, uuid.UUID] | None:
    """A page key written by `_key`, or None for anything else (a link cut short, edited by
    hand, or hostile), which the pager then reads as "the first page": a broken link still
    shows the list. The instant must carry its offset and fit the database's range once in
    UTC; the id must be a UUID (the rows' primary keys)."""
    stamp, _, pk = key.partition("~")
    try:
        at = datetime.fromisoformat(stamp)
        if at.utcoffset() is None:
            return None
        return at.astimezone(UTC), uuid.UUID(pk)
    except (ValueError, OverflowError):
        return None


def newest_first(rows: QuerySet, *, older_than: str = "", newer_than: str = "", size: int = 25) -> Page:
    """A page of `rows` newest first by (created_at, id), through an index on them; keys are 'time~id'.

    One query, no COUNT: a neighbour page exists when one row more than `size` comes back.
    """
    newer, older = _parse_key(newer_than), _parse_key(older_than)
    if newer is not None:
        at, pk = newer
        after = rows.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk)).order_by("created_at", "id")
        found = list(after[: size + 1])
        more = len(found) > size
        found = list(reversed(found[:size]))
        return Page(
            found, newer=_key(found[0]) if more and found else None, older=_key(found[-1]) if found else None
        )
    if older is not None:
        at, pk = older
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    found = list(rows.order_by("-created_at", "-id")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=_key(found[0]) if older is not None and found else None,
        older=_key(found[-1]) if more else None,
    )


def calls_page(campaign: Campaign, *, status: str = "", older_than: str = "", newer_than: str = "") -> Page:
    """The calls log, newest first, through the (campaign, -created_at) index."""
    calls = Call.objects.filter(campaign=campaign).select_related("customer", "phone_number")
    calls = calls.defer("transcript", "summary", "analysis", "customer__assistant_overrides")
    if status:
        calls = calls.filter(status=status)
    return newest_first(calls, older_than=older_than, newer_than=newer_than)


def call_for(campaign: Campaign, pk: object) -> Call | None:
    """One call of the campaign with the customer, caller ID and its provider record."""
    return (
        Call.objects.select_related("customer", "phone_number", "provider_account")
        .prefetch_related("log")
        .filter(campaign=campaign, pk=pk)
        .first()
    )


# -- settings pages -------------------------------------------------------------------------------


def do_not_call_page(
    organization: Organization, *, search: str = "", older_than: str = "", newer_than: str = ""
) -> Page:
    """The do-not-call list, newest first, 50 a page; `search` matches part of a number or a note."""
    entries = DoNotCall.objects.filter(organization=organization).select_related("created_by")
    if search:
        entries = entries.filter(Q(number__contains=search) | Q(note__icontains=search))
    return newest_first(entries, older_than=older_than, newer_than=newer_than, size=50)
