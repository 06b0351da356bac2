"""Where calls come from: provider accounts, caller IDs, and who must never be called."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.credentials import EncryptedTextField
from campaigns.models.org import Organization


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
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


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
