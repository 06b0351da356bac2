"""/campaign/{id}/calendar and /organization/blackout-dates: the callee's calendar (Dialdeck
extensions). The engine applies it at dispatch and again at the last gate."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import services
from campaigns.api.serializers.calendar import (
    CampaignCalendarSerializer,
    OrganizationBlackoutSerializer,
    OrganizationRegionRulesSerializer,
)
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.permissions import Action

TAG = ["Calling calendar (Dialdeck)"]


class CampaignCalendarApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "put": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignCalendarController_findOne",
        summary="Get Campaign Calendar",
        tags=TAG,
        parameters=[ID],
        responses={200: CampaignCalendarSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        return Response(CampaignCalendarSerializer(self.get_campaign(request, id)).data)

    @extend_schema(
        operation_id="CampaignCalendarController_set",
        summary="Set Campaign Calendar",
        description="The campaign's blackout dates (replaced whole when given) and its policy for numbers "
        "that may be in several zones. 409 once the campaign has ended.",
        tags=TAG,
        parameters=[ID],
        request=CampaignCalendarSerializer,
        responses={200: CampaignCalendarSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def put(self, request, id):
        campaign = self.get_campaign(request, id)
        serializer = CampaignCalendarSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changed = services.campaign_calendar_set(
            campaign=campaign,
            by=request.actor,
            blackout_dates=data.get("blackoutDates"),
            ambiguous_zones=data.get("ambiguousZones"),
        )
        return Response(CampaignCalendarSerializer(changed).data)


class OrganizationBlackoutApi(ApiView):
    needs = {"get": Action.ORGANIZATION_SETTINGS, "put": Action.ORGANIZATION_SETTINGS}

    @extend_schema(
        operation_id="OrganizationBlackoutController_findOne",
        summary="Get Organization Blackout Dates",
        tags=TAG,
        responses={200: OrganizationBlackoutSerializer, **UNAUTHORIZED},
    )
    def get(self, request):
        return Response(OrganizationBlackoutSerializer(request.organization).data)

    @extend_schema(
        operation_id="OrganizationBlackoutController_set",
        summary="Set Organization Blackout Dates",
        description="Replaces the organization's holidays: no campaign calls anyone on them, in the "
        "callee's own time zone. Admins only; audited.",
        tags=TAG,
        request=OrganizationBlackoutSerializer,
        responses={200: OrganizationBlackoutSerializer, **INVALID, **UNAUTHORIZED},
    )
    def put(self, request):
        serializer = OrganizationBlackoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.organization_blackout_set(
            organization=request.organization,
            by=request.actor,
            blackout_dates=serializer.validated_data["blackoutDates"],
        )
        return Response(OrganizationBlackoutSerializer(changed).data)


class OrganizationRegionRulesApi(ApiView):
    needs = {"get": Action.ORGANIZATION_SETTINGS, "put": Action.ORGANIZATION_SETTINGS}

    @extend_schema(
        operation_id="OrganizationRegionRulesController_findOne",
        summary="Get Region Rules",
        tags=TAG,
        responses={200: OrganizationRegionRulesSerializer, **UNAUTHORIZED},
    )
    def get(self, request):
        return Response(OrganizationRegionRulesSerializer(request.organization).data)

    @extend_schema(
        operation_id="OrganizationRegionRulesController_set",
        summary="Set Region Rules",
        description="Replaces the organization's table of region rules (a state's hours, a country's day "
        "of rest). The region of a number comes from its prefix (phonenumbers). Admins only; audited.",
        tags=TAG,
        request=OrganizationRegionRulesSerializer,
        responses={200: OrganizationRegionRulesSerializer, **INVALID, **UNAUTHORIZED},
    )
    def put(self, request):
        serializer = OrganizationRegionRulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.organization_region_rules_set(
            organization=request.organization,
            by=request.actor,
            rules=serializer.validated_data["regionRules"],
        )
        return Response(OrganizationRegionRulesSerializer(changed).data)
