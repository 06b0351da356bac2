"""What the wallboard draws a campaign's life from: its counters, sampled once a minute."""

from __future__ import annotations

from django.db import models

from campaigns.models.campaign import Campaign


class CampaignSnapshot(models.Model):
    """A campaign's cumulative counters at one minute (taken by the dialer's tick while it runs).

    Cumulative, so any two snapshots give the rates between them, and a chart over the whole life
    of a campaign reads one row per point it draws (selectors.wallboard.campaign_trend).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="snapshots")
    at = models.DateTimeField()
    calls_ended = models.BigIntegerField()
    calls_ended_answered = models.BigIntegerField()
    calls_ended_voicemail = models.BigIntegerField()
    calls_ended_failed = models.BigIntegerField()
    calls_ended_no_answer = models.BigIntegerField()
    calls_ended_busy = models.BigIntegerField()
    customers_dialed = models.BigIntegerField()
    customers_completed = models.BigIntegerField()
    calls_cost = models.DecimalField(max_digits=14, decimal_places=4)
    calls_duration_seconds = models.FloatField()

    class Meta:
        ordering = ["campaign", "at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "at"], name="snapshot_one_per_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} at {self.at:%Y-%m-%d %H:%M}"
