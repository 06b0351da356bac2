"""The dialer's own rows: events the simulated provider has scheduled for itself."""

from __future__ import annotations

from django.db import models


class SimulatedEvent(models.Model):
    """One future callback of the simulated provider, delivered by the beat-driven sweep.

    Kept in the database rather than as broker countdowns, so a restart loses nothing.
    """

    account = models.ForeignKey("campaigns.ProviderAccount", on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.payload.get('kind')} {self.payload.get('status')} at {self.due_at:%H:%M:%S}"


class WebhookEvent(models.Model):
    """A provider event the webhook endpoint accepted, waiting to be recorded.

    The endpoint answers as soon as the event is stored (one insert), and a worker records
    stored events in arrival order within about a second, many per transaction
    (dialer.webhooks.record_received_events). Nothing is lost if no worker is running.
    """

    # No index on account: events are read by id, and one index less is one write less per callback.
    account = models.ForeignKey(
        "campaigns.ProviderAccount", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.payload.get('kind')} {self.payload.get('status')} received {self.received_at:%H:%M:%S}"
