"""Where calls come from: provider accounts, caller IDs, and who must never be called."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.credentials import EncryptedTextField
from campaigns.models.org import Organization
from campaigns.phone import area_code_for, regions_for


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


# The simulated provider's outcomes, in percent (its account settings may change them): what the
# dashboard's form offers and what dialer.providers.simulated draws from.
SIMULATED_MIX = {"answered": 55, "noAnswer": 15, "busy": 10, "voicemail": 12, "failed": 5, "optOut": 3}


class ProviderKind(models.TextChoices):
    SIMULATED = "simulated", "Simulated (no real calls)"
    VAPI = "vapi", "Vapi-compatible"
    TWILIO = "twilio", "Twilio Programmable Voice"
    RETELL = "retell", "Retell AI"
    BLAND = "bland", "Bland AI"
    ELEVENLABS = "elevenlabs", "ElevenLabs Agents"


class ProviderAccount(models.Model):
    """An account at a voice provider that places the calls."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="provider_accounts")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    base_url = models.URLField(blank=True, help_text="e.g. https://api.vapi.ai")
    # The provider's credential (API key, Twilio's Auth Token), encrypted at rest (campaigns.credentials).
    api_key = EncryptedTextField(blank=True, help_text="The provider's API key or auth token.")
    # What authenticates the provider's webhooks: ours (Vapi puts it in X-Vapi-Secret) or the
    # signing secret the provider's console gives (Bland, ElevenLabs). Encrypted at rest too.
    webhook_secret = EncryptedTextField(default=_webhook_token)
    # An unguessable path segment, so webhooks find their account without trusting the body.
    webhook_token = models.CharField(max_length=64, unique=True, default=_webhook_token)
    # Simulated provider: outcome mix, durations and seed (see dialer/providers/simulated.py).
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class PhoneNumber(models.Model):
    """A caller ID on a provider account; its id is what the API calls phoneNumberId."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="phone_numbers")
    provider_account = models.ForeignKey(
        ProviderAccount, on_delete=models.PROTECT, related_name="phone_numbers"
    )
    number = models.CharField(max_length=20, help_text="E.164, e.g. +14155550100")
    name = models.CharField(max_length=100, blank=True)
    # The provider's own id for this number (Vapi's phoneNumberId), sent on POST /call.
    provider_phone_number_id = models.CharField(max_length=100, blank=True)
    # Where the number is, derived from it when saved (campaigns.phone): what local presence
    # matches the callee's number on (rules.caller_ids).
    country = models.CharField(max_length=2, blank=True, editable=False)
    region = models.CharField(max_length=10, blank=True, editable=False, help_text="e.g. US-CA")
    area_code = models.CharField(max_length=8, blank=True, editable=False)
    # A disabled number is never used by a pool, and a queued call on it never leaves (the gate).
    disabled = models.BooleanField(default=False, db_default=False)
    max_concurrent_calls = models.PositiveIntegerField(
        null=True, blank=True, help_text="Live calls on this caller ID at most (empty: no cap)."
    )
    max_daily_calls = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls per day (UTC) on this caller ID at most (empty: no cap)."
    )
    # Rested automatically when its answer rate collapsed (rules.caller_ids.should_rest), until a
    # user lifts the rest; a rested number is used like a disabled one.
    rested_at = models.DateTimeField(null=True, blank=True)
    rested_reason = models.CharField(max_length=200, blank=True, db_default="", default="")
    # When a user last lifted a rest: its health counts the calls created after it only.
    health_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"],
                condition=Q(deleted_at__isnull=True),
                name="phone_number_unique_live",
            ),
            models.CheckConstraint(
                name="phone_number_caps_positive",
                condition=(Q(max_concurrent_calls__isnull=True) | Q(max_concurrent_calls__gte=1))
                & (Q(max_daily_calls__isnull=True) | Q(max_daily_calls__gte=1)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    def save(self, *args: object, **kwargs: object) -> None:
        """Derives country, region and area code from the number on every save."""
        regions = regions_for(self.number)
        self.country = regions[0] if regions else ""
        self.region = regions[1] if len(regions) > 1 else ""
        self.area_code = area_code_for(self.number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "country", "region", "area_code"}
        super().save(*args, **kwargs)

    @property
    def usable(self) -> bool:
        return not self.disabled and self.rested_at is None


class DoNotCallSource(models.TextChoices):
    MANUAL = "manual", "Added by hand"
    IMPORT = "import", "Imported"
    OPT_OUT = "opt-out", "Opted out on a call"
    API = "api", "Added through the API"


class DoNotCall(models.Model):
    """A number the organization must never call."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="do_not_call")
    number = models.CharField(max_length=40)
    source = models.CharField(max_length=10, choices=DoNotCallSource.choices)
    note = models.CharField(max_length=200, blank=True)
    # The call on which the callee opted out (source opt-out).
    call = models.ForeignKey(
        "campaigns.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "do-not-call entry"
        verbose_name_plural = "do-not-call list"
        indexes = [models.Index(fields=["organization", "-created_at"], name="dnc_org_newest")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="dnc_unique_number"),
        ]

    def __str__(self) -> str:
        return self.number
