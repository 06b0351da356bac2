"""Campaign events for the campaign's own server (Vapi's `server` + `serverMessages`): an outbox.

An event is written in the same transaction as the change it reports (services.events), so none
is lost when a worker dies and none is sent for a change that rolled back; dialer.outbound
delivers it, signed, retrying by the campaign's backoff plan, and logs every attempt.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign
from campaigns.models.org import Organization

# Vapi's serverMessages values, in its OpenAPI's order.
SERVER_MESSAGES = (
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "campaign.unarchived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
    "campaign.job.continued",
)
# Dialdeck's own events, outside Vapi's serverMessages enum (which the API keeps exactly): sent to
# every campaign server, asked for or not. campaign.auto-paused: the campaign paused itself.
ALWAYS_SENT = ("campaign.auto-paused",)


class EventState(models.TextChoices):
    PENDING = "pending", "Waiting to be delivered"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Given up"


class CampaignEvent(models.Model):
    """One campaign event waiting for, or past, delivery to the campaign's server."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the idempotency key
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()  # the change's instant: the envelope's `timestamp`
    state = models.CharField(max_length=10, choices=EventState.choices, default=EventState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["campaign", "created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="campaign_event_due", condition=Q(state="pending")),
            models.Index(fields=["campaign", "-created_at"], name="campaign_event_newest"),
            # What the campaign page counts (waiting, given up): few rows, whatever was delivered.
            models.Index(
                fields=["campaign", "state"],
                name="campaign_event_undelivered",
                condition=Q(state__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.state})"


class CampaignEventAttempt(models.Model):
    """One try at delivering an event: what was sent where, and what came back."""

    event = models.ForeignKey(CampaignEvent, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    url = models.CharField(max_length=500)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response = models.TextField(blank=True)

    class Meta:
        ordering = ["event", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.url} -> {self.http_status or self.error}"
