"""The wallboard's own rows: a snapshot of each running campaign's counters, once a minute."""

from __future__ import annotations

from datetime import datetime

from campaigns.models import Campaign, CampaignSnapshot, CampaignStatus

SNAPSHOT_FIELDS = (
    "calls_ended",
    "calls_ended_answered",
    "calls_ended_voicemail",
    "calls_ended_failed",
    "calls_ended_no_answer",
    "calls_ended_busy",
    "customers_dialed",
    "customers_completed",
    "calls_cost",
    "calls_duration_seconds",
)


def campaign_snapshots_take(*, now: datetime) -> int:
    """Store the counters of every running or paused campaign that has no snapshot for `now`'s
    minute yet; returns how many were stored.

    Safe to run from every tick and from several at once: one query finds the campaigns still
    missing this minute's row, and the unique (campaign, minute) constraint drops a duplicate.
    Reads counters without locking the campaign rows: a snapshot a call behind is still a point
    on the trend, and the dialer's transactions are never made to wait for it.
    """
    minute = now.replace(second=0, microsecond=0)
    missing = (
        Campaign.objects.filter(
            status__in=(CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED), deleted_at__isnull=True
        )
        .exclude(snapshots__at=minute)
        .values("pk", *SNAPSHOT_FIELDS)
    )
    rows = [
        CampaignSnapshot(campaign_id=row.pop("pk"), at=minute, **row)
        for row in missing.iterator(chunk_size=500)
    ]
    CampaignSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
