"""Reads of a campaign's events (the outbox, models.events) and of their delivery attempts.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes. Lists go through the (campaign, -created_at) index; counts through the
partial index of undelivered events, and stop at COUNT_CAP.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignEvent, CampaignEventAttempt, EventState
from campaigns.selectors.common import Page, as_uuid, newest_first

COUNT_CAP = 10_000


@dataclass(frozen=True)
class EventCounts:
    """A campaign's events waiting for delivery and given up; `..._more`: beyond COUNT_CAP."""

    pending: int
    failed: int
    pending_more: bool = False
    failed_more: bool = False


def campaign_events(campaign: Campaign, *, state: str = "") -> QuerySet[CampaignEvent]:
    """A campaign's events, newest first (ties by id), optionally in one state ("": any)."""
    events = CampaignEvent.objects.filter(campaign=campaign)
    if state:
        events = events.filter(state=state)
    return events.order_by("-created_at", "-id")


def campaign_events_page(
    campaign: Campaign, *, state: str = "", older_than: str = "", newer_than: str = "", size: int = 20
) -> Page:
    """`size` of campaign_events(campaign, state), newest first; page keys as
    common.newest_first writes them."""
    return newest_first(
        campaign_events(campaign, state=state), older_than=older_than, newer_than=newer_than, size=size
    )


def campaign_event_for(campaign: Campaign, pk: object) -> CampaignEvent | None:
    """One event of the campaign; None for another campaign's, a missing one or a malformed id."""
    pk = as_uuid(pk)
    return None if pk is None else CampaignEvent.objects.filter(campaign=campaign, pk=pk).first()


def event_attempts(event: CampaignEvent) -> list[CampaignEventAttempt]:
    """Every delivery attempt of the event, oldest first: where it went, what came back."""
    return list(CampaignEventAttempt.objects.filter(event=event).order_by("attempted_at", "id"))


def campaign_event_counts(campaign: Campaign) -> EventCounts:
    """How many of the campaign's events wait for delivery, and how many were given up."""
    counts = {}
    for state in (EventState.PENDING, EventState.FAILED):
        found = CampaignEvent.objects.filter(campaign=campaign, state=state)[: COUNT_CAP + 1].count()
        counts[state] = found
    return EventCounts(
        pending=min(counts[EventState.PENDING], COUNT_CAP),
        failed=min(counts[EventState.FAILED], COUNT_CAP),
        pending_more=counts[EventState.PENDING] > COUNT_CAP,
        failed_more=counts[EventState.FAILED] > COUNT_CAP,
    )
