"""/v2/campaign: Vapi's v2 campaign API (create, list, get, status-only update, archive, contacts)
and our unarchive.

Creates, updates and deletes answer the full Campaign document, the two reads CampaignSummary,
as Vapi's v2 does. Archived campaigns are hidden from every read but `?status=archived`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.pagination import paginate
from campaigns.api.serializers import CampaignCreateSerializer, CampaignSerializer, read_query
from campaigns.api.serializers.query import CampaignSummaryQuery, CampaignV2ListQuery, ContactListQuery
from campaigns.api.serializers.v2 import (
    CampaignSummaryPageSerializer,
    CampaignSummarySerializer,
    CampaignUpdateV2Serializer,
    ContactPageSerializer,
    ContactSerializer,
)
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView, campaign_document
from campaigns.api.views.campaigns import campaign_filters, create_campaign, list_echo
from campaigns.models import CampaignStatus
from campaigns.permissions import Action

TAG = ["Campaigns"]
ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED)


def _not_active(asked: str, current: str) -> services.ValidationFailed:
    """v2's PATCH refusal for a campaign that is not active: a 400 naming status (Vapi's PATCH)."""
    return services.ValidationFailed.one(
        "status", f"cannot be set to {asked}: only an active campaign can be cancelled (it is {current})"
    )


class CampaignV2ListApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "post": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignController_createV2",
        summary="Create Campaign V2",
        description="Creates and launches (or schedules) a campaign. v2's rules: one of assistantId or "
        "squadId, one phoneNumberId, at most 10,000 customers; workflowId and dialPlan are V1-only. "
        "With duplicateFromCampaignId (a v2 campaign), what the body does not give is copied.",
        tags=TAG,
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def post(self, request):
        """Create a v2 campaign (201 with the full document); 400 names every bad field."""
        serializer = CampaignCreateSerializer(data=request.data, context={"version": 2})
        serializer.is_valid(raise_exception=True)
        campaign = create_campaign(request, serializer.validated_data)
        return Response(campaign_document(campaign), status=201)

    @extend_schema(
        operation_id="CampaignController_findAllV2",
        summary="List Campaigns V2",
        tags=TAG,
        parameters=[CampaignV2ListQuery],
        responses={200: CampaignSummaryPageSerializer, **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """One page of campaign summaries, as GET /campaign filters and sorts them."""
        query = read_query(CampaignV2ListQuery, request.query_params)
        campaigns = selectors.campaigns_listed(request.organization, campaign_filters(query))
        context = {"counters": query["includeCounters"]}
        return Response(
            paginate(
                campaigns,
                page=query["page"],
                limit=query["limit"],
                render=lambda items: CampaignSummarySerializer(items, many=True, context=context).data,
                echo=list_echo(query),
            )
        )


class CampaignV2Api(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "patch": Action.CAMPAIGNS_WRITE, "delete": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignController_findOneV2",
        summary="Get Campaign V2",
        description="The campaign's summary; 404 for an archived one.",
        tags=TAG,
        parameters=[ID, CampaignSummaryQuery],
        responses={200: CampaignSummarySerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """The campaign's summary, with its counters if asked."""
        campaign = self.get_campaign(request, id)
        query = read_query(CampaignSummaryQuery, request.query_params)
        return Response(
            CampaignSummarySerializer(campaign, context={"counters": query["includeCounters"]}).data
        )

    @extend_schema(
        operation_id="CampaignController_updateV2",
        summary="Update Campaign V2",
        description='Status-only: `{"status": "cancelled"}` (or `ended`, its alias) cancels a scheduled '
        "or in-progress campaign; calls in flight finish. Anything else, or a campaign that is no "
        "longer active, is refused (400).",
        tags=TAG,
        parameters=[ID],
        request=CampaignUpdateV2Serializer,
        responses={200: CampaignSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def patch(self, request, id):
        """Cancel the campaign; returns the full document."""
        campaign = self.get_campaign(request, id)
        serializer = CampaignUpdateV2Serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        asked = serializer.validated_data
        if campaign.status not in ACTIVE:
            raise _not_active(asked, campaign.status)
        try:
            campaign = services.campaign_end(
                campaign=campaign, by=request.actor, status=CampaignStatus.CANCELLED
            )
        except services.InvalidTransition as exc:  # it ended meanwhile
            raise _not_active(asked, exc.current) from exc
        return Response(campaign_document(campaign))

    @extend_schema(
        operation_id="CampaignController_removeV2",
        summary="Delete Campaign V2",
        description="Archives the campaign: cancels it first if it is active (calls in flight finish), "
        "keeps its records, and hides it from reads (GET answers 404; list it with ?status=archived; "
        "POST /v2/campaign/{id}/unarchive restores it). Returns the document, status archived.",
        tags=TAG,
        parameters=[ID],
        responses={200: CampaignSerializer, **MISSING, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        """Archive the campaign; returns the full document."""
        campaign = services.campaign_archive(campaign=self.get_campaign(request, id), by=request.actor)
        return Response(campaign_document(campaign))


class CampaignV2ContactsApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignController_getCampaignV2Contacts",
        summary="Get Campaign V2 Contacts",
        description="The campaign's customers as contacts, each with its status and its latest call's "
        "id, dispatch time and endedReason. totalItems comes from the campaign's counters.",
        tags=TAG,
        parameters=[ID, ContactListQuery],
        responses={200: ContactPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One page of contacts, in upload (dial) order or by status."""
        campaign = self.get_campaign(request, id)
        query = read_query(ContactListQuery, request.query_params)
        rows = selectors.campaign_contacts(campaign, statuses=query["status"], sort_by=query["sortBy"])
        return Response(
            paginate(
                rows,
                page=query["page"],
                limit=query["limit"],
                total=selectors.contacts_total(campaign, query["status"]),
                render=lambda items: ContactSerializer(map(selectors.contact_of, items), many=True).data,
            )
        )


class CampaignV2UnarchiveApi(ApiView):
    needs = {"post": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignController_unarchiveV2",
        summary="Unarchive Campaign",
        description="Dialdeck extension (Vapi documents no unarchive): shows an archived campaign again, "
        "with the status it had (ended or cancelled: it never dials again). 409 with the current "
        "status if it is not archived.",
        tags=["Campaign lifecycle (Dialdeck)"],
        parameters=[ID],
        request=None,
        responses={200: CampaignSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def post(self, request, id):
        """Unarchive; returns the full document."""
        campaign = services.campaign_unarchive(
            campaign=self.get_campaign(request, id, archived=True), by=request.actor
        )
        return Response(campaign_document(campaign))
