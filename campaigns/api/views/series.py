"""Re-runs and recurring campaigns (Dialdeck extensions): POST /campaign/{id}/rerun,
PUT and DELETE /campaign/{id}/recurrence, GET /campaign/{id}/series."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.serializers import CampaignSerializer
from campaigns.api.serializers.series import (
    RecurrenceRequestSerializer,
    RerunRequestSerializer,
    SeriesSerializer,
    series_out,
)
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView, campaign_document
from campaigns.models import Campaign
from campaigns.permissions import Action

TAG = ["Re-runs and recurring campaigns (Dialdeck)"]


def _series(campaign: Campaign):  # noqa: ANN202 (a CampaignSeries)
    series = selectors.series_of(campaign)
    if series is None:
        raise services.NotFound("campaign is not part of a recurring series")
    return series


class CampaignRerunApi(ApiView):
    needs = {"post": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignRerunController_create",
        summary="Re-run Campaign",
        description="Create a new scheduled campaign with every setting of this one (ended or cancelled), "
        "calling again its customers in the groups `who` names; it starts as `autoStart` says. The new "
        "campaign's `rerunOfCampaignId` links it back. 409 while this campaign may still call them.",
        tags=TAG,
        parameters=[ID],
        request=RerunRequestSerializer,
        responses={201: CampaignSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def post(self, request, id):
        campaign = self.get_campaign(request, id)
        body = RerunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rerun = services.campaign_rerun(
            campaign=campaign,
            by=request.actor,
            who=body.validated_data["who"],
            name=body.validated_data.get("name", ""),
        )
        return Response(campaign_document(rerun), status=201)


class CampaignRecurrenceApi(ApiView):
    needs = {"put": Action.CAMPAIGNS_WRITE, "delete": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignRecurrenceController_set",
        summary="Make Campaign Recur",
        description="Make this campaign the first run of a series: daily, weekly or monthly at `at` in "
        "`timeZone`, until `endsOn` or `maxRuns`. Each run is a new campaign with this one's settings "
        "and customers, made once when due (a run missed while nothing could make it is skipped). "
        "409 when the campaign already belongs to a series.",
        tags=TAG,
        parameters=[ID],
        request=RecurrenceRequestSerializer,
        responses={201: SeriesSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def put(self, request, id):
        campaign = self.get_campaign(request, id)
        body = RecurrenceRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        series = services.series_create(
            campaign=campaign,
            by=request.actor,
            frequency=given["frequency"],
            time_zone=given["timeZone"],
            at=given["at"],
            ends_on=given.get("endsOn"),
            max_runs=given.get("maxRuns"),
        )
        return Response(series_out(series, selectors.series_runs(series)), status=201)

    @extend_schema(
        operation_id="CampaignRecurrenceController_stop",
        summary="Stop Recurrence",
        description="No further run of the campaign's series is made; runs made already are kept.",
        tags=TAG,
        parameters=[ID],
        request=None,
        responses={200: SeriesSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        series = services.series_stop(series=_series(self.get_campaign(request, id)), by=request.actor)
        return Response(series_out(series, selectors.series_runs(series)))


class CampaignSeriesApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignSeriesController_report",
        summary="Series Report",
        description="The recurring series this campaign belongs to: its settings, each run with its "
        "counters, and the counters added up. 404 for a campaign of no series.",
        tags=TAG,
        parameters=[ID],
        responses={200: SeriesSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        series = _series(self.get_campaign(request, id))
        return Response(series_out(series, selectors.series_runs(series)))
