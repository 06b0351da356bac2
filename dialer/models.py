"""The dialer's own rows: events the simulated provider has scheduled for itself."""

from __future__ import annotations

import orjson
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

    # Each callback is one insert, so the table does no more than it must: no index on account
    # (events are read by id); no foreign-key check in the database (the endpoint found the
    # account a moment before, and accounts are only ever soft-deleted; the ORM still cascades);
    # the CallEvent kept as JSON text, parsed by the recorder (jsonb would parse it on insert).
    account = models.ForeignKey(
        "campaigns.ProviderAccount",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.TextField(help_text="A CallEvent as JSON (CallEvent.to_json), or a message as received")
    # The payload is the provider's message as it arrived, its secrets redacted, read into events
    # by the account's provider when recorded (Provider.stored_events): the endpoint only checks
    # that it is one to act on, and reading it costs the recorder, not the callback. A database
    # default, so rows inserted without it (a web process of the release before) are CallEvents.
    as_received = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        if self.as_received:
            return f"provider message received {self.received_at:%H:%M:%S}"
        event = self.event()
        return f"{event.get('kind')} {event.get('status')} received {self.received_at:%H:%M:%S}"

    def event(self) -> dict:
        """The stored JSON object ({} if the text is not one): a CallEvent's, or the message's."""
        try:
            value = orjson.loads(self.payload)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
