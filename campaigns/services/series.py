"""Recurring campaigns: make a campaign the first run of a series, stop a series, and make each
later run when it is due (a new campaign copying the first one's settings and customers).

Each run is made exactly once, however many beats or workers ask at the same moment: the claim
is a conditional UPDATE of the series' next run (only one caller moves it), and the database's
unique (series, run day) constraint refuses a second campaign for the same day in any case.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import F

from campaigns import clock
from campaigns.models import Campaign, CampaignSeries
from campaigns.rules.recurrence import Recurrence, due, recurrence_problems, run_at, run_on
from campaigns.services.audit import Actor, audit_record
from campaigns.services.campaigns import campaign_create
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.reruns import copy_input
from campaigns.services.tx import retry_on_conflict

log = logging.getLogger(__name__)


def _first_on(campaign: Campaign, time_zone: str, now: datetime) -> date:
    """Run 0's day: the campaign's earliestAt (or now), in the series' zone (a zone refused is
    reported by recurrence_problems; today's UTC day stands in meanwhile)."""
    try:
        return (campaign.earliest_at or now).astimezone(ZoneInfo(str(time_zone))).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


@retry_on_conflict
def series_create(
    *,
    campaign: Campaign,
    by: Actor,
    frequency: str,
    time_zone: str,
    at: time | None,
    ends_on: date | None = None,
    max_runs: int | None = None,
    now: datetime | None = None,
) -> CampaignSeries:
    """Make `campaign` run 0 of a new series: daily, weekly or monthly at `at` (local time in
    `time_zone`), until `ends_on` or `max_runs` runs in all.

    Raises ValidationFailed naming each refused setting, InvalidTransition when the campaign is
    deleted or already part of a series (stop that one first: a campaign starts one series)."""
    now = now or clock.now()
    campaign = (
        Campaign.objects.select_for_update(of=("self",)).select_related("organization").get(pk=campaign.pk)
    )
    if campaign.deleted_at or campaign.series_id is not None:
        current = "deleted" if campaign.deleted_at else "part of a series"
        raise InvalidTransition(action="recur", current=current, detail=f"cannot recur a campaign {current}")
    first_on = _first_on(campaign, time_zone, now)
    problems = recurrence_problems(
        frequency=frequency, time_zone=time_zone, at=at, ends_on=ends_on, max_runs=max_runs, first_on=first_on
    )
    if problems:
        raise ValidationFailed([FieldError(field, why) for field, why in problems])
    rec = Recurrence(frequency, time_zone, first_on, at, ends_on, max_runs)  # type: ignore[arg-type]
    upcoming = due(rec, 1, now)
    series = CampaignSeries.objects.create(
        organization=campaign.organization,
        template=campaign,
        frequency=frequency,
        time_zone=time_zone,
        first_on=first_on,
        at=at,
        ends_on=ends_on,
        max_runs=max_runs,
        next_index=1,
        next_run_at=upcoming.next_at,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    Campaign.objects.filter(pk=campaign.pk).update(series=series, series_run_on=first_on)
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.recur",
        target=campaign,
        after=_series_snapshot(series),
    )
    return series


def _series_snapshot(series: CampaignSeries) -> dict:
    return {
        "series": str(series.pk),
        "frequency": series.frequency,
        "time_zone": series.time_zone,
        "first_on": series.first_on.isoformat(),
        "at": series.at.isoformat(timespec="minutes"),
        "ends_on": series.ends_on.isoformat() if series.ends_on else None,
        "max_runs": series.max_runs,
    }


@retry_on_conflict
def series_stop(*, series: CampaignSeries, by: Actor) -> CampaignSeries:
    """No further run is made (runs made already are left as they are). Raises InvalidTransition
    when the series has stopped or is over."""
    series = CampaignSeries.objects.select_for_update().select_related("organization").get(pk=series.pk)
    if series.stopped_at or series.next_run_at is None:
        raise InvalidTransition(action="stop", current="stopped" if series.stopped_at else "over")
    series.stopped_at, series.next_run_at = clock.now(), None
    series.save(update_fields=["stopped_at", "next_run_at"])
    audit_record(
        organization=series.organization,
        by=by,
        action="series.stop",
        target=series,
        after=_series_snapshot(series),
    )
    return series


def series_run_due(*, series_id: object, now: datetime | None = None) -> Campaign | None:
    """Make the run of a series that is due at `now`, once: the new campaign (scheduled at the
    run's instant; it starts by itself as the first run's autoStart says), or None when nothing is
    due or another caller made it. Runs whose time passed unmade are skipped (counted), not made late.
    """
    now = now or clock.now()
    try:
        return _run_due(series_id, now)
    except IntegrityError:  # the run's day has a campaign already (a racing caller made it)
        log.warning("series %s: a campaign exists for the run's day already; nothing made", series_id)
        return None


@transaction.atomic
def _run_due(series_id: object, now: datetime) -> Campaign | None:
    series = CampaignSeries.objects.select_related("template", "organization").filter(pk=series_id).first()
    if series is None or series.stopped_at or series.next_run_at is None or series.next_run_at > now:
        return None
    if series.template.deleted_at:  # its first run was deleted: the series ends with it
        CampaignSeries.objects.filter(pk=series.pk).update(next_run_at=None, stopped_at=now)
        return None
    rec = series.recurrence
    plan = due(rec, series.next_index, now)
    claimed = CampaignSeries.objects.filter(
        pk=series.pk, next_index=series.next_index, stopped_at__isnull=True
    ).update(
        next_index=plan.next_index,
        next_run_at=plan.next_at,
        runs_skipped=F("runs_skipped") + len(plan.skipped),
    )
    if not claimed or plan.make is None:
        return None  # another caller moved it first, or nothing was due after all
    template, day = series.template, run_on(rec, plan.make)
    data = copy_input(
        template,
        name=f"{template.name} · {day.isoformat()}",
        customers=template.customers.order_by("position"),
        earliest_at=run_at(rec, plan.make),
    )
    with transaction.atomic():
        run = campaign_create(organization=series.organization, by=None, data=data)
        Campaign.objects.filter(pk=run.pk).update(series=series, series_run_on=day, duplicated_from=template)
    run.series, run.series_run_on = series, day
    audit_record(
        organization=series.organization,
        by=None,
        action="series.run",
        target=run,
        after={
            "series": str(series.pk),
            "run": plan.make,
            "day": day.isoformat(),
            "skipped": list(plan.skipped),
        },
    )
    return run


def series_runs_due(*, now: datetime | None = None, limit: int = 100) -> list[Campaign]:
    """The beat's sweep: make every run due at `now` (each series in its own transaction)."""
    now = now or clock.now()
    due_ids = list(
        CampaignSeries.objects.filter(next_run_at__lte=now, stopped_at__isnull=True)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )
    made = [series_run_due(series_id=pk, now=now) for pk in due_ids]
    return [run for run in made if run is not None]
