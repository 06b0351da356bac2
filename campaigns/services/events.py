"""Campaign events for the campaign's own server: written to the outbox (models.events) in the
caller's transaction, taken for delivery under a lease, and each delivery attempt recorded.
dialer.outbound sends them; nothing here sends anything.

Delivery is at least once. An event is marked delivered only by the record of a 2xx answer;
taking it only moves its next_attempt_at past the time a delivery can take (the lease), so an
event taken by a worker that dies is simply due again once the lease has run out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F

from campaigns import clock
from campaigns.models import (
    ALWAYS_SENT,
    Campaign,
    CampaignEvent,
    CampaignEventAttempt,
    EventState,
    Organization,
)
from campaigns.services.tx import retry_on_conflict

# Vapi's server.timeoutSeconds: 1 to 300, 20 when not given.
DEFAULT_TIMEOUT_SECONDS = 20.0
TIMEOUT_BOUNDS = (1.0, 300.0)
ERROR_LENGTH = 300  # CampaignEvent.last_error, CampaignEventAttempt.error


def subscribed(campaign: Campaign, event_type: str) -> bool:
    """Whether the campaign asked for this event: a server URL, and the type among its serverMessages
    (or one of Dialdeck's own, models.events.ALWAYS_SENT)."""
    wanted = event_type in (campaign.server_messages or ()) or event_type in ALWAYS_SENT
    return bool((campaign.server or {}).get("url")) and wanted


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


def delivery_timeout(server: dict | None) -> float:
    """Seconds one delivery may take: the campaign's server.timeoutSeconds, within Vapi's bounds."""
    value = (server or {}).get("timeoutSeconds")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DEFAULT_TIMEOUT_SECONDS
    return min(max(float(value), TIMEOUT_BOUNDS[0]), TIMEOUT_BOUNDS[1])


@retry_on_conflict
def events_take(*, limit: int, lease_seconds: float, now: datetime | None = None) -> list[CampaignEvent]:
    """Take up to `limit` due pending events (oldest due first) for this worker to deliver.

    Each one's next_attempt_at moves to now + its server's timeout + `lease_seconds`: nobody
    else takes it meanwhile, and if this worker dies it is due again after that. On PostgreSQL
    the rows are chosen FOR UPDATE SKIP LOCKED, so workers taking at once share the due events
    instead of queueing on them; SQLite's IMMEDIATE transactions run takes one at a time. The
    UPDATE is conditional on the row still being due, as a last guard. Returns the events
    taken, each with its campaign (its server) and organization (its signing secrets) loaded.
    """
    now = now or clock.now()
    due = CampaignEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=now)
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True, of=("self",))
    events = list(due.order_by("next_attempt_at")[:limit])
    if not events:
        return []
    campaigns = Campaign.objects.only("id", "organization_id", "server").in_bulk(
        {e.campaign_id for e in events}
    )
    organizations = Organization.objects.only(
        "id", "event_signing_secret", "event_signing_secret_previous", "event_signing_secret_rotated_at"
    ).in_bulk({e.organization_id for e in events})
    by_lease: dict[datetime, list[CampaignEvent]] = defaultdict(list)
    for event in events:
        event.campaign, event.organization = (
            campaigns[event.campaign_id],
            organizations[event.organization_id],
        )
        timeout = delivery_timeout(event.campaign.server)
        by_lease[now + timedelta(seconds=timeout + lease_seconds)].append(event)
    taken = []
    for lease, group in by_lease.items():
        ids = [event.pk for event in group]
        still_due = CampaignEvent.objects.filter(
            pk__in=ids, state=EventState.PENDING, next_attempt_at__lte=now
        )
        if still_due.update(next_attempt_at=lease) != len(group):  # not under the locks above: re-read
            mine = set(
                CampaignEvent.objects.filter(pk__in=ids, next_attempt_at=lease).values_list("pk", flat=True)
            )
            group = [event for event in group if event.pk in mine]
        for event in group:
            event.next_attempt_at = lease
        taken += group
    return taken


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at delivering one event, and what to do next: delivered (a 2xx), or due again at
    `retry_at`, or given up when `retry_at` is None."""

    event_id: object
    attempted_at: datetime
    url: str
    http_status: int | None = None
    error: str = ""
    duration_ms: int = 0
    response: str = ""
    delivered: bool = False
    retry_at: datetime | None = None


@retry_on_conflict
def event_attempts_record(*, attempts: list[DeliveryAttempt], now: datetime | None = None) -> None:
    """Log the attempts (CampaignEventAttempt) and move their events, in one transaction.

    A delivered event gets state delivered and delivered_at; a failed one its last error and,
    per `retry_at`, a new next_attempt_at or state failed (given up). Each attempt counts. An
    event that is no longer pending (a worker whose lease ran out delivered it too) keeps its
    state; its attempt is logged all the same.
    """
    if not attempts:
        return
    now = now or clock.now()
    CampaignEventAttempt.objects.bulk_create(
        [
            CampaignEventAttempt(
                event_id=a.event_id,
                attempted_at=a.attempted_at,
                url=a.url[:500],
                http_status=a.http_status,
                error=a.error[:ERROR_LENGTH],
                duration_ms=max(0, a.duration_ms),
                response=a.response,
            )
            for a in attempts
        ]
    )
    pending = CampaignEvent.objects.filter(state=EventState.PENDING)
    count = F("attempts") + 1
    if delivered := sorted(str(a.event_id) for a in attempts if a.delivered):
        pending.filter(pk__in=delivered).update(
            state=EventState.DELIVERED, delivered_at=now, attempts=count, last_error=""
        )
    for a in sorted((a for a in attempts if not a.delivered), key=lambda a: str(a.event_id)):
        changes = {"next_attempt_at": a.retry_at} if a.retry_at else {"state": EventState.FAILED}
        error = a.error or (f"answered {a.http_status}" if a.http_status else "no answer")
        pending.filter(pk=a.event_id).update(attempts=count, last_error=error[:ERROR_LENGTH], **changes)
