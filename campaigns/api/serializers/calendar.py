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
