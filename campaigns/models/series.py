"""A recurring campaign: the campaign it was made from (its settings and customers, run 0) and
when the next runs are due (campaigns.rules.recurrence). Each run is a campaign of its own,
linked to its series by `Campaign.series` and its day, made once: (series, run day) is unique."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign
from campaigns.models.org import Organization
from campaigns.rules.recurrence import DAILY, MONTHLY, WEEKLY, Recurrence


class Frequency(models.TextChoices):
    DAILY_ = DAILY, "Daily"
    WEEKLY_ = WEEKLY, "Weekly"
    MONTHLY_ = MONTHLY, "Monthly"


class CampaignSeries(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Run 0: every later run copies its settings and customers (as they were imported).
    template = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="series_made")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    time_zone = models.CharField(max_length=64)
    first_on = models.DateField()
    at = models.TimeField()
    ends_on = models.DateField(null=True, blank=True)
    max_runs = models.PositiveIntegerField(null=True, blank=True)
    # The next run not yet made and when it is due (None: over, or stopped).
    next_index = models.PositiveIntegerField(default=1)
    next_run_at = models.DateTimeField(null=True, blank=True)
    runs_skipped = models.PositiveIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "campaign series"
        indexes = [
            # The beat's question: series with a run due.
            models.Index(fields=["next_run_at"], name="series_due", condition=Q(next_run_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                name="series_has_an_end", condition=Q(ends_on__isnull=False) | Q(max_runs__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} ({self.frequency})"

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(
            frequency=self.frequency,
            time_zone=self.time_zone,
            first_on=self.first_on,
            at=self.at,
            ends_on=self.ends_on,
            max_runs=self.max_runs,
        )
