"""What the dashboard tells its people about their campaigns, in the app and by email."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from campaigns.models.campaign import Campaign
from campaigns.models.org import Organization


class NotificationKind(models.TextChoices):
    FINISHED = "campaign.finished", "Campaign finished"


class Notification(models.Model):
    """One notice for one person (the in-app list); emailed too unless they turned email off."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organization", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return self.text
