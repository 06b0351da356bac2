"""Tenancy: organizations, their members and their API keys."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

SIGNING_SECRET_PREFIX = "ddsig_"
# After a rotation the previous secret signs campaign events too, this long, so that receivers
# can switch secrets without refusing an event in between.
SIGNING_SECRET_GRACE = timedelta(hours=24)


def new_signing_secret() -> str:
    """A secret for signing campaign events (HMAC-SHA256 key): 256 random bits, recognisable."""
    return SIGNING_SECRET_PREFIX + secrets.token_urlsafe(32)


class Organization(models.Model):
    """A tenant. Every other object belongs to exactly one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Default zone for schedules typed in the dashboard."
    )
    max_concurrent_calls = models.PositiveIntegerField(
        default=50, help_text="Calls in flight across all campaigns of the organization."
    )
    # The lawful floor for callee-local calling hours (US TCPA: 08:00–21:00).
    # Campaigns may narrow it; only changing it here widens it.
    recipient_earliest = models.TimeField(default=time(8, 0))
    recipient_latest = models.TimeField(default=time(21, 0))
    # Compliance settings: only the organization's admins change them, and each change is audited
    # (services.organization_update). Off by default: the safe side.
    allow_ignoring_recipient_time = models.BooleanField(
        default=False,
        help_text="Campaigns may turn off the callee-local hours above (respectRecipientTimeZone: false).",
    )
    call_numbers_without_time_zone = models.BooleanField(
        default=False,
        help_text="Numbers whose time zone cannot be known are called within the campaign's own "
        "calling hours; otherwise they wait (unknown_time_zone).",
    )
    default_region = models.CharField(
        max_length=2,
        blank=True,
        help_text="Country (ISO 3166, e.g. US) of numbers written without a country code.",
    )
    # Holidays: ISO dates ("2026-12-25") on which no campaign calls, in each callee's own zone
    # (campaigns.rules.engine); changed by services.organization_blackout_set, audited.
    blackout_dates = models.JSONField(default=list, blank=True)
    # Where law narrows hours: [{region: "US-FL", windows: [{day, start, end}], note}], callee-local
    # (campaigns.rules.engine.RegionRule); changed by services.organization_region_rules_set.
    region_rules = models.JSONField(default=list, blank=True)
    # Usage and quota (campaigns.rules.usage): the billing period starts on this day of each
    # month (Cobbery's BillingDoMStart); with included minutes set, the quota mode says what
    # happens once they are used (off, warn, or pause: the last gate refuses new calls).
    billing_day = models.PositiveSmallIntegerField(
        default=1, help_text="Day of the month (1–28) each billing period starts, at 00:00 UTC."
    )
    included_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Conversation minutes included per billing period; empty: no quota."
    )
    quota_mode = models.CharField(
        max_length=5,
        choices=[
            ("off", "Do nothing"),
            ("warn", "Warn on the organization page and in the API"),
            ("pause", "Stop new calls until the next period"),
        ],
        default="off",
        help_text="Once the included minutes are used: do nothing, warn, or stop new calls.",
    )
    # The organization-wide stop: while set, no call of any campaign passes the last gate.
    dialing_paused_at = models.DateTimeField(null=True, blank=True)
    # Signs the campaign events sent to campaigns' own servers (dialer.outbound; README "Campaign
    # events"). Shown once, when an admin rotates it (services.organization_signing_secret_rotate);
    # never in a form. The one it replaced keeps signing for SIGNING_SECRET_GRACE.
    event_signing_secret = models.CharField(max_length=100, default=new_signing_secret, editable=False)
    event_signing_secret_previous = models.CharField(max_length=100, blank=True, editable=False)
    event_signing_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_concurrent_calls__gte=1), name="org_max_concurrent_positive"
            ),
            models.CheckConstraint(
                condition=Q(recipient_earliest__lt=models.F("recipient_latest")),
                name="org_recipient_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(billing_day__gte=1, billing_day__lte=28), name="org_billing_day"
            ),
            models.CheckConstraint(
                condition=Q(quota_mode__in=["off", "warn", "pause"]), name="org_quota_mode"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def event_signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign an event sent at `now`: the current one, and the previous one
        within SIGNING_SECRET_GRACE of a rotation."""
        rotated = self.event_signing_secret_rotated_at
        recent = rotated is not None and now - rotated < SIGNING_SECRET_GRACE
        previous = (
            [self.event_signing_secret_previous] if recent and self.event_signing_secret_previous else []
        )
        return [self.event_signing_secret, *previous]

    @property
    def event_signing_secret_hint(self) -> str:
        """Enough of the secret to tell which one a receiver holds, and no more."""
        return signing_secret_hint(self.event_signing_secret)


def signing_secret_hint(secret: str) -> str:
    return f"{secret[: len(SIGNING_SECRET_PREFIX) + 4]}…" if secret else ""


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    # Per person and organization: whether notices (a campaign finished) also come by email.
    email_notifications = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


KEY_PREFIX = "dd_"


def hash_api_key(raw: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A Bearer token for the REST API. Only its hash is stored; the key is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the key.")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new raw key, its display prefix and its hash."""
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        return raw, raw[:10], hash_api_key(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
