"""Dialdeck's re-runs and recurring campaigns: the bodies of POST /campaign/{id}/rerun and
PUT /campaign/{id}/recurrence, the series report, and the links a campaign document shows
(`rerunOfCampaignId`, `rerunWho`, `seriesId`, `seriesRunOn`, and `pausedReason` for a campaign
that paused itself)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from campaigns.api.serializers.common import iso
from campaigns.api.serializers.fields import Array, Choice, DocumentedText, Integer, Text, TimeOfDay
from campaigns.api.serializers.request import RequestSerializer
from campaigns.models import Campaign, CampaignSeries, CampaignStatus
from campaigns.rules.recurrence import FREQUENCIES, MAX_RUNS
from campaigns.rules.rerun import GROUPS, LABELS


class RerunRequestSerializer(RequestSerializer):
    who = Array(
        child=serializers.ChoiceField(choices=list(GROUPS)),
        help_text="Whom to call again: "
        + "; ".join(f"`{group}`: {LABELS[group].lower()}" for group in GROUPS)
        + ". Customers on the do-not-call list, opted out or never called are in no group.",
    )
    name = Text(
        required=False, allow_blank=True, max_length=255, help_text='Default: the old name + " (re-run)".'
    )


class DateField(serializers.DateField):
    """A calendar day, YYYY-MM-DD."""

    default_error_messages = {"invalid": "must be a date YYYY-MM-DD", "null": "must be a date YYYY-MM-DD"}

    def to_internal_value(self, value: Any):  # noqa: ANN201 (a date)
        if not isinstance(value, str):
            self.fail("invalid")
        return super().to_internal_value(value)


class RecurrenceRequestSerializer(RequestSerializer):
    frequency = Choice(list(FREQUENCIES))
    timeZone = DocumentedText(help_text="IANA time zone the runs' day and time are read in.")
    at = TimeOfDay(help_text="Local time of day each run starts, HH:MM.")
    endsOn = DateField(required=False, help_text="No run after this day (give it, maxRuns, or both).")
    maxRuns = Integer(
        required=False,
        min_value=MAX_RUNS[0],
        max_value=MAX_RUNS[1],
        help_text="Runs in all, this campaign (the first run) included.",
    )


class SeriesRunSerializer(serializers.Serializer):
    campaignId = serializers.UUIDField()
    runOn = serializers.DateField(help_text="The run's day, in the series' time zone.")
    name = serializers.CharField()
    status = serializers.CharField()
    customers = serializers.IntegerField(help_text="Customers in the run.")
    dialed = serializers.IntegerField(help_text="Customers a call reached the provider for.")
    connected = serializers.IntegerField(help_text="Customers a person answered for.")
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    objectiveMet = serializers.IntegerField()
    callsEnded = serializers.IntegerField()


class SeriesSerializer(serializers.Serializer):
    """A recurring campaign: its settings, where it stands, each run with its counters, and the
    runs' counters added up."""

    id = serializers.UUIDField()
    firstCampaignId = serializers.UUIDField()
    frequency = serializers.ChoiceField(choices=list(FREQUENCIES))
    timeZone = serializers.CharField()
    at = serializers.CharField(help_text="HH:MM")
    firstOn = serializers.DateField()
    endsOn = serializers.DateField(allow_null=True)
    maxRuns = serializers.IntegerField(allow_null=True)
    nextRunAt = serializers.DateTimeField(allow_null=True, help_text="null: the series is over or stopped.")
    stoppedAt = serializers.DateTimeField(allow_null=True)
    runsSkipped = serializers.IntegerField(help_text="Runs whose time passed while nothing could make them.")
    runs = SeriesRunSerializer(many=True)
    totals = SeriesRunSerializer(
        help_text="The runs' counters added up (campaignId, runOn, name: the first run's)."
    )


RUN_COUNTERS = {
    "customers": "customers_total",
    "dialed": "customers_dialed",
    "connected": "customers_connected",
    "completed": "customers_completed",
    "failed": "customers_failed",
    "objectiveMet": "customers_objective_met",
    "callsEnded": "calls_ended",
}


def run_out(run: Campaign) -> dict[str, Any]:
    return {
        "campaignId": str(run.pk),
        "runOn": run.series_run_on.isoformat() if run.series_run_on else None,
        "name": run.name,
        "status": run.status,
        **{key: getattr(run, field) for key, field in RUN_COUNTERS.items()},
    }


def series_out(series: CampaignSeries, runs: list[Campaign]) -> dict[str, Any]:
    listed = [run_out(run) for run in runs]
    first = (
        listed[0]
        if listed
        else {"campaignId": str(series.template_id), "runOn": None, "name": "", "status": ""}
    )
    totals = {**first, **{key: sum(r[key] for r in listed) for key in RUN_COUNTERS}}
    return {
        "id": str(series.pk),
        "firstCampaignId": str(series.template_id),
        "frequency": series.frequency,
        "timeZone": series.time_zone,
        "at": series.at.strftime("%H:%M"),
        "firstOn": series.first_on.isoformat(),
        "endsOn": series.ends_on.isoformat() if series.ends_on else None,
        "maxRuns": series.max_runs,
        "nextRunAt": iso(series.next_run_at) if series.next_run_at else None,
        "stoppedAt": iso(series.stopped_at) if series.stopped_at else None,
        "runsSkipped": series.runs_skipped,
        "runs": listed,
        "totals": totals,
    }


def links_out(campaign: Campaign) -> dict[str, Any]:
    """The document's links to where the campaign came from, and why it paused itself; absent
    when it has none."""
    data: dict[str, Any] = {}
    if campaign.rerun_of_id:
        data |= {"rerunOfCampaignId": str(campaign.rerun_of_id), "rerunWho": list(campaign.rerun_who)}
    if campaign.series_id:
        data |= {"seriesId": str(campaign.series_id), "seriesRunOn": campaign.series_run_on.isoformat()}
    if campaign.status == CampaignStatus.PAUSED and campaign.auto_paused_reason:
        data["pausedReason"] = campaign.auto_paused_reason
    return data


LINK_FIELDS = {
    "rerunOfCampaignId": serializers.UUIDField(
        required=False,
        help_text="Dialdeck extension: the campaign this one re-runs (POST /campaign/{id}/rerun).",
    ),
    "rerunWho": serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The groups re-run (see who of the re-run)."
    ),
    "seriesId": serializers.UUIDField(
        required=False, help_text="Dialdeck extension: the recurring series this campaign is a run of."
    ),
    "seriesRunOn": serializers.DateField(required=False, help_text="The run's day in its series."),
    "pausedReason": serializers.CharField(
        required=False, help_text="Dialdeck extension: why the campaign paused itself (its provider failed)."
    ),
}
