"""The callee's calendar: blackout dates of a campaign and of the organization, and a campaign's
policy for numbers that may be in several zones (Dialdeck extensions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.fields import Array, Choice
from campaigns.api.serializers.request import RequestSerializer


def _dates(**kwargs: Any) -> serializers.Field:
    return Array(
        child=serializers.DateField(),
        help_text="ISO dates (YYYY-MM-DD): no call on them in the callee's own time zone(s).",
        **kwargs,
    )


@extend_schema_serializer(component_name="CampaignCalendar")
class CampaignCalendarSerializer(RequestSerializer):
    """A campaign's holidays (on top of the organization's) and where a number that may be in
    several zones is taken to be: `every` (wait until it is calling time in each, reason
    ambiguous_time_zone) or `campaign` (in the campaign's time zone). Absent keys are kept."""

    blackoutDates = _dates(required=False)
    ambiguousZones = Choice(("every", "campaign"), required=False)
    organizationBlackoutDates = _dates(read_only=True)

    read_order = ("blackoutDates", "ambiguousZones")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "blackoutDates": instance.blackout_dates,
            "ambiguousZones": instance.ambiguous_zones,
            "organizationBlackoutDates": instance.organization.blackout_dates,
        }


@extend_schema_serializer(component_name="OrganizationBlackoutDates")
class OrganizationBlackoutSerializer(RequestSerializer):
    """Holidays of the whole organization: no campaign calls anyone on them (callee-local)."""

    blackoutDates = _dates()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {"blackoutDates": instance.blackout_dates}


class RegionWindowSerializer(serializers.Serializer):
    day = serializers.ChoiceField(choices=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    start = serializers.CharField(help_text="HH:MM, callee-local")
    end = serializers.CharField(
        help_text="HH:MM; at or before start runs past midnight; equal is the whole day"
    )


class RegionRuleSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="A country (DE) or a country and subdivision (US-FL).")
    windows = RegionWindowSerializer(
        many=True, help_text="When callees there may be called, in their own time."
    )
    note = serializers.CharField(required=False, help_text="Why, for people (shown with the reason).")


@extend_schema_serializer(component_name="OrganizationRegionRules")
class OrganizationRegionRulesSerializer(RequestSerializer):
    """Where law narrows hours: callees in a region are called only inside its windows (reason
    region_hours otherwise), e.g. {"region": "US-FL", "windows": [{"day": "mon", "start": "08:00",
    "end": "20:00"}, …]} or a country's day of rest: its other days, each "00:00"–"00:00"."""

    regionRules = Array(child=RegionRuleSerializer())

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {"regionRules": instance.region_rules}
