"""Campaign events for the campaign's own server, written to the outbox (models.events) in the
caller's transaction. dialer.outbound delivers them; nothing here sends anything."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from campaigns import clock
from campaigns.models import Campaign, CampaignEvent


def subscribed(campaign: Campaign, event_type: str) -> bool:
    """Whether the campaign asked for this event: a server URL, and the type among its serverMessages."""
    return bool((campaign.server or {}).get("url")) and event_type in (campaign.server_messages or ())


def event_emit(
    *, campaign: Campaign, event_type: str, data: dict[str, Any], at: datetime | None = None
) -> CampaignEvent | None:
    """Queue one event for delivery, in the caller's transaction; None when the campaign did not
    ask for it."""
    return (events_emit(campaign=campaign, event_type=event_type, items=[data], at=at) or [None])[0]


def events_emit(
    *, campaign: Campaign, event_type: str, items: Iterable[dict[str, Any]], at: datetime | None = None
) -> list[CampaignEvent]:
    """Queue one event per item of `items` (e.g. a contact.dispatched per call of a batch)."""
    if not subscribed(campaign, event_type):
        return []
    at = at or clock.now()
    rows = [
        CampaignEvent(
            organization_id=campaign.organization_id,
            campaign=campaign,
            event_type=event_type,
            data=data,
            created_at=at,
            next_attempt_at=at,
        )
        for data in items
    ]
    return CampaignEvent.objects.bulk_create(rows)
