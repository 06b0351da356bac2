"""Calls: one attempt to reach one customer, and the record of what the provider said."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from campaigns.models.campaign import Campaign
from campaigns.models.customer import Customer
from campaigns.models.org import Organization
from campaigns.models.telephony import PhoneNumber, ProviderAccount


class CallStatus(models.TextChoices):
    """Vapi's Call.status values, in the order a call moves through them."""

    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in-progress", "In progress"
    FORWARDING = "forwarding", "Forwarding"
    ENDED = "ended", "Ended"


# A status never moves to a lower rank: a late "ringing" after "in-progress" is ignored.
STATUS_RANK = {s: i for i, s in enumerate(CallStatus.values)}
# Which of Vapi's gauges a live status counts under.
STATUS_COUNTER = {
    CallStatus.SCHEDULED: "calls_scheduled",
    CallStatus.QUEUED: "calls_queued",
    CallStatus.RINGING: "calls_in_progress",
    CallStatus.IN_PROGRESS: "calls_in_progress",
    CallStatus.FORWARDING: "calls_in_progress",
}

# The calls list sorts by duration and cost with a missing value lowest on every database: through
# these expressions, which their indexes hold verbatim (selectors.calls reads them from here).
DURATION_SORT = Coalesce(F("duration_seconds"), Value(-1.0), output_field=models.FloatField())
COST_SORT = Coalesce(
    F("cost"), Value(Decimal("-1")), output_field=models.DecimalField(max_digits=10, decimal_places=4)
)
# A call the provider has named (its id stored): the provider ids are unique among those alone.
PROVIDER_NAMED = ~Q(provider_call_id="")


class CallDirection(models.TextChoices):
    """Outbound: placed by the dialer (an attempt). Inbound: a callee calling a caller ID back
    (rules.inbound): never an attempt, never in the campaign's counters."""

    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


# Vapi's Call.type for each direction.
CALL_TYPES = {CallDirection.OUTBOUND: "outboundPhoneCall", CallDirection.INBOUND: "inboundPhoneCall"}


class Call(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: each leads a composite one (call_org_created, call_campaign_created,
    # call_attempt_unique) that answers the same lookups, and every index is written again on
    # each of a call's four or five updates (placing, confirmed, placed, ringing, ended).
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="calls", db_index=False)
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="+")
    provider_account = models.ForeignKey(ProviderAccount, on_delete=models.PROTECT, related_name="+")
    # The attempt (outbound); for an inbound call, which of the customer's inbound calls it is
    # (1, 2, ...): it spends no attempt.
    attempt = models.PositiveIntegerField()
    direction = models.CharField(
        max_length=8, choices=CallDirection.choices, default=CallDirection.OUTBOUND, db_default="outbound"
    )
    # Why this caller ID, when the campaign has a pool ("area code 415", "split B · default").
    caller_id_choice = models.CharField(max_length=100, blank=True, db_default="", default="")

    status = models.CharField(max_length=20, choices=CallStatus.choices, default=CallStatus.QUEUED)
    ended_reason = models.CharField(max_length=200, blank=True)
    provider_call_id = models.CharField(max_length=100, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the one worker that takes the call to the provider; a queued call without it
    # has not left us yet and may still be cancelled.
    placing_at = models.DateTimeField(null=True, blank=True)
    # When the call passed the last gate (dialer.claims.confirm_at_gate): from then on its request
    # may have reached the provider, so it is never withdrawn or cancelled, only recorded.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # After a retryable provider error: not to be placed again before this.
    not_before = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True, help_text="When the provider accepted it.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    # What `cost` is counted in, as the provider reports it: a currency ("USD") or the provider's
    # own unit ("credits", ElevenLabs). Empty while no cost is known.
    cost_unit = models.CharField(max_length=12, blank=True)

    # From the provider's end-of-call report.
    summary = models.TextField(blank=True)
    transcript = models.TextField(blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    stereo_recording_url = models.URLField(max_length=500, blank=True)
    analysis = models.JSONField(null=True, blank=True)
    # The structured result the voice agent extracted (provider-neutral: Vapi's
    # analysis.structuredData), checked against the campaign's analysis schema when it arrived.
    structured_data = models.JSONField(null=True, blank=True)
    structured_data_valid = models.BooleanField(null=True, blank=True)
    structured_data_error = models.CharField(max_length=300, blank=True, db_default="", default="")
    objective_met = models.BooleanField(null=True, blank=True)
    report_received = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["campaign", "-created_at"], name="call_campaign_created"),
            # The calls list's other sortable columns (selectors.calls.CALL_SORTS), ties by id.
            models.Index(F("campaign"), DURATION_SORT, F("id"), name="call_campaign_duration"),
            models.Index(F("campaign"), COST_SORT, F("id"), name="call_campaign_cost"),
            # Usage per billing period: an organization's calls created within a period.
            models.Index(fields=["organization", "created_at"], name="call_org_created"),
            # A customer's inbound calls (the customer page, the campaign's inbound count).
            models.Index(
                fields=["campaign", "customer"], name="call_inbound", condition=Q(direction="inbound")
            ),
            models.Index(
                fields=["organization", "status"], name="call_org_live", condition=~Q(status="ended")
            ),
            models.Index(
                fields=["campaign", "status"], name="call_campaign_live", condition=~Q(status="ended")
            ),
            # Queued calls no worker has taken yet: the tick re-sends those whose task was lost.
            models.Index(
                fields=["created_at"],
                name="call_unsent",
                condition=Q(status="queued", placing_at__isnull=True),
            ),
        ]
        constraints = [
            # A customer is never in two live calls.
            # (Inbound calls are the callee's doing: they hold no attempt and no dialing slot.)
            models.UniqueConstraint(
                fields=["customer"],
                condition=~Q(status="ended") & Q(direction="outbound"),
                name="call_one_live_per_customer",
            ),
            models.UniqueConstraint(fields=["customer", "attempt", "direction"], name="call_attempt_unique"),
            models.UniqueConstraint(
                fields=["provider_account", "provider_call_id"],
                condition=PROVIDER_NAMED,
                name="call_provider_id_unique",
            ),
            models.CheckConstraint(
                name="call_ended_reason_iff_ended",
                condition=(Q(status="ended") & ~Q(ended_reason=""))
                | (~Q(status="ended") & Q(ended_reason="")),
            ),
        ]

    @staticmethod
    def with_provider_ids(account_id: object, provider_call_ids: Iterable[str]) -> Q:
        """The calls of one provider account that the provider named with these ids, found through
        the unique index call_provider_id_unique. Its condition is spelled out in the lookup:
        PostgreSQL proves a partial index's condition from an IN list of at most 100 values, and
        a batch of webhooks naming more read the whole calls table (measured, 500 ids at a million
        calls: 165-186 ms, growing with the table; 50-63 ms through the index)."""
        return Q(provider_account_id=account_id, provider_call_id__in=provider_call_ids) & PROVIDER_NAMED

    def __str__(self) -> str:
        return f"{self.customer} #{self.attempt} ({self.status})"


class CallLogKind(models.TextChoices):
    REQUEST = "request", "Request to provider"
    RESPONSE = "response", "Provider answer"
    WEBHOOK = "webhook", "Provider webhook"
    POLL = "poll", "Status poll"
    NOTE = "note", "Dialer note"


class CallLog(models.Model):
    """What we asked a provider about a call and what it answered, so users can see why."""

    BODY_LIMIT = 2000

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="log")
    kind = models.CharField(max_length=10, choices=CallLogKind.choices)
    # Webhook idempotency: (call, key) is unique, so a redelivered event is recorded once.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "dedupe_key"], condition=Q(dedupe_key__isnull=False), name="call_log_dedupe"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"

    @classmethod
    def truncate(cls, body: str | bytes) -> str:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return body if len(body) <= cls.BODY_LIMIT else body[: cls.BODY_LIMIT] + "…"


class TranscriptRole(models.TextChoices):
    """Who said a line of a live transcript (Vapi's `role` of a `transcript` server message)."""

    ASSISTANT = "assistant", "Agent"
    USER = "user", "Callee"


class TranscriptLine(models.Model):
    """One line of a call's live transcript, as the provider streams it while the call is under way
    (Vapi's final `transcript` server messages; partial ones are not kept). The end-of-call report's
    whole transcript goes on the call (Call.transcript) as before."""

    TEXT_LIMIT = 2000

    id = models.BigAutoField(primary_key=True)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transcript_lines")
    at = models.DateTimeField(help_text="When the provider said it was said.")
    role = models.CharField(max_length=10, choices=TranscriptRole.choices)
    text = models.TextField()

    class Meta:
        ordering = ["call", "at", "id"]
        constraints = [
            # A redelivered line is kept once: a speaker says one final line at a given instant.
            models.UniqueConstraint(fields=["call", "at", "role"], name="transcript_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.text[:60]}"
