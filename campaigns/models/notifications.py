"""What the dashboard tells its people about their campaigns, in the app and by email, and the
alerts (conditions a supervisor must not miss) that open and close while they last."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign
from campaigns.models.org import Organization


class NotificationKind(models.TextChoices):
    FINISHED = "campaign.finished", "Campaign finished"
    AUTO_PAUSED = "campaign.auto-paused", "Campaign paused itself"
    NOBODY_CALLABLE = "campaign.nobody-callable", "Nobody callable"
    QUOTA_SPENT = "organization.quota-spent", "Included minutes used"
    PROVIDER_FAILING = "provider.failing", "Provider failing"


class Notification(models.Model):
    """One notice for one person (the in-app list); emailed too unless they turned email off."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    text = models.CharField(max_length=300)
    # What the notice is about when it is not a campaign (a provider account's id), for its link.
    target_id = models.CharField(max_length=64, blank=True, db_default="", default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organization", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return self.text


class Alert(models.Model):
    """One occurrence of a condition (a campaign with nobody callable, a provider failing, the
    quota spent): opened when first seen, announced once, closed when it no longer holds. At most
    one open alert per key, so two sweeps at once announce it once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    key = models.CharField(max_length=200)  # what it is about: "<kind>:<object id>[:<period>]"
    opened_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], condition=Q(closed_at__isnull=True), name="alert_one_open"
            )
        ]

    def __str__(self) -> str:
        return self.key
