"""What every API view shares: JSON parsing with Vapi's errors, tenancy lookups, documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import jsonlimits, selectors
from campaigns.api.parsers import VapiJSONParser
from campaigns.api.serializers import CampaignSerializer, ConflictSerializer, ErrorSerializer
from campaigns.models import Campaign, CampaignStatus
from campaigns.permissions import Action
from campaigns.services import NotFound

ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
# Responses every authenticated operation can give (403: a session whose role may not do it).
UNAUTHORIZED = {401: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer}
INVALID = {400: ErrorSerializer}
MISSING = {404: ErrorSerializer}
CONFLICT = {409: ConflictSerializer}


class ApiView(APIView):
    """Base of the REST API's views. `request.organization` and `request.actor` are set by
    auth.HasOrganization; everything is looked up within the organization (others' ids: 404).

    `needs` maps each method a view handles to its action in the permission table
    (campaigns/permissions.py); auth.HasOrganization refuses who the table refuses."""

    parser_classes = [VapiJSONParser]
    needs: ClassVar[Mapping[str, Action]] = {}

    def initial(self, request, *args, **kwargs):
        """After authentication, permissions and throttling: the one check of every view's query
        string (a NUL reaching PostgreSQL in a filter would answer 500); the body has its own,
        in VapiJSONParser."""
        super().initial(request, *args, **kwargs)
        problems = jsonlimits.parameter_problems(request.query_params)
        if problems:  # named as the client wrote them: not a service's names to translate
            raise ValidationError([str(problem) for problem in problems])

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            response.add_post_render_callback(_release_data)
        return response

    def get_campaign(self, request, campaign_id: Any, *, archived: bool = False) -> Campaign:
        """The organization's campaign, or 404. Archived campaigns are hidden, as Vapi hides them
        (found only by `archived`: the unarchive extension)."""
        campaign = selectors.campaign_for(request.organization, campaign_id)
        if campaign is None or (campaign.status == CampaignStatus.ARCHIVED and not archived):
            raise NotFound("campaign not found")
        return campaign


def _release_data(response: Response) -> None:
    """Drop the rendered data. DRF keeps the view and its response in a reference cycle
    (view.response, response.renderer_context["view"]), so the data (for a campaign
    document, tens of thousands of objects: its calls' entries) would otherwise wait for the
    cyclic collector, which then walks it: the bytes to send are all that is needed after
    rendering."""
    response.data = None


def campaign_documents(campaigns: list[Campaign]) -> list[dict[str, Any]]:
    """Vapi's Campaign documents of `campaigns` (one page of a list), in a fixed number of queries
    (and two more per campaign beyond 10,000 customers)."""
    return CampaignSerializer(selectors.campaign_documents(campaigns), many=True).data


def campaign_document(campaign: Campaign, *, read_again: bool = True) -> dict[str, Any]:
    """The campaign as Vapi's Campaign document, re-read so counters are current after a write;
    `read_again=False` for a campaign the request has only just read (GET)."""
    fresh = Campaign.objects.get(pk=campaign.pk) if read_again else campaign
    return CampaignSerializer(selectors.campaign_documents([fresh])[0]).data
