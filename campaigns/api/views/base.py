"""What every API view shares: JSON parsing with Vapi's errors, tenancy lookups, documents."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.api.errors import VapiJSONParser
from campaigns.api.serializers import CampaignSerializer, ConflictSerializer, ErrorSerializer
from campaigns.models import Campaign
from campaigns.services import NotFound

ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
# Responses every authenticated operation can give (403: a dashboard viewer writing).
UNAUTHORIZED = {401: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer}
INVALID = {400: ErrorSerializer}
MISSING = {404: ErrorSerializer}
CONFLICT = {409: ConflictSerializer}


class ApiView(APIView):
    """Base of the REST API's views. `request.organization` and `request.actor` are set by
    auth.HasOrganization; everything is looked up within the organization (others' ids: 404)."""

    parser_classes = [VapiJSONParser]

    def get_campaign(self, request, campaign_id: Any) -> Campaign:
        campaign = selectors.campaign_for(request.organization, campaign_id)
        if campaign is None:
            raise NotFound("campaign not found")
        return campaign


def campaign_document(campaign: Campaign) -> dict[str, Any]:
    """The campaign as Vapi's Campaign document, re-read so counters are current."""
    fresh = Campaign.objects.get(pk=campaign.pk)
    return CampaignSerializer(selectors.with_documents([fresh])[0]).data
