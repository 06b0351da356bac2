"""/campaign: Vapi's Campaign API (create, list, get, update, delete) and our lifecycle actions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.pagination import paginate
from campaigns.api.serializers import (
    CampaignCreateSerializer,
    CampaignListQuery,
    CampaignPageSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    read_query,
)
from campaigns.api.serializers.query import TIME_BOUNDS, TIME_FIELDS
from campaigns.api.views.base import (
    CONFLICT,
    ID,
    INVALID,
    MISSING,
    UNAUTHORIZED,
    ApiView,
    campaign_document,
    campaign_documents,
)
from campaigns.models import Campaign
from campaigns.permissions import Action
from campaigns.rules.strategy import FIELDS as STRATEGY_FIELDS
from campaigns.services import CampaignInput, FieldError

TAG = ["Campaigns"]


IMMUTABLE_V2 = (
    "cannot be updated: campaigns created through /v2/campaign are immutable (only status can be set)"
)
DUPLICATE_V1 = "must name a campaign created through /v2/campaign (Vapi duplicates v2 campaigns only)"
DUPLICATE_DIAL_PLAN = (
    "names a campaign with a dialPlan, which is not copied: give phoneNumberId with customers, or a dialPlan"
)


def time_bounds(query: dict, fields: dict[str, str]) -> dict:
    """The query's createdAt/updatedAt bounds as ORM lookups on `fields` (API name -> column)."""
    bounds = {}
    for name, _ in TIME_FIELDS:
        for suffix, lookup, _ in TIME_BOUNDS:
            value = query[f"{name}{suffix}"]
            if value is not None:
                bounds[f"{fields[name]}__{lookup}"] = value
    return bounds


def list_echo(query: dict) -> dict:
    """What PaginationMeta repeats of a list's query: its sortOrder and createdAtGe/Le bounds."""
    echo = {"sortOrder": query["sortOrder"]}
    for key in ("createdAtGe", "createdAtLe"):
        if query[key] is not None:  # in UTC, to the microsecond given (iso() would round it)
            echo[key] = query[key].isoformat().replace("+00:00", "Z")
    return echo


def campaign_filters(query: dict) -> selectors.CampaignFilters:
    return selectors.CampaignFilters(
        id=query["id"] or None,
        status=query["status"],
        bounds=time_bounds(query, dict(TIME_FIELDS)),
        descending=query["sortOrder"] == "DESC",
        sort_by=query["sortBy"],
    )


def create_campaign(request, data: CampaignInput) -> Campaign:
    """Create the campaign `data` describes (POST /campaign and /v2/campaign).

    A duplicate's source must be a campaign of the organization (404 otherwise, as any campaign
    of another organization is), created through /v2/campaign for a v2 duplicate (Vapi's rule),
    and not one whose dial plan the copy would need; settings of the dialing strategy the
    request gives are laid over the source's, as every other field the request gives is."""
    if data.duplicate_from_id is not None:
        source = selectors.campaign_for(request.organization, data.duplicate_from_id)
        if source is None:
            raise services.NotFound(f"campaign {data.duplicate_from_id} not found (duplicateFromCampaignId)")
        if data.api_version == 2 and source.api_version != 2:
            raise services.ValidationFailed.one("duplicate_from_id", DUPLICATE_V1)
        if source.uses_dial_plan and data.phone_number_id is None and data.dial_plan is None:
            raise services.ValidationFailed.one("duplicate_from_id", DUPLICATE_DIAL_PLAN)
        if data.strategy is not None:
            data.strategy = {**{f: getattr(source, f) for f in STRATEGY_FIELDS}, **data.strategy}
    return services.campaign_create(organization=request.organization, by=request.actor, data=data)


class CampaignListApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "post": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignController_create",
        summary="Create Campaign",
        tags=TAG,
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def post(self, request):
        """Create a scheduled campaign with its customers (201), all or nothing; 400 names every bad field."""
        serializer = CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = create_campaign(request, serializer.validated_data)
        return Response(campaign_document(campaign), status=201)

    @extend_schema(
        operation_id="CampaignController_findAll",
        summary="List Campaigns",
        tags=TAG,
        parameters=[CampaignListQuery],
        responses={200: CampaignPageSerializer, **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """One page of the organization's campaigns (deleted ones never, archived ones only with
        status=archived), newest first by default."""
        query = read_query(CampaignListQuery, request.query_params)
        campaigns = selectors.campaigns_listed(request.organization, campaign_filters(query))
        return Response(
            paginate(
                campaigns,
                page=query["page"],
                limit=query["limit"],
                render=campaign_documents,
                echo=list_echo(query),
            )
        )


class CampaignApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "patch": Action.CAMPAIGNS_WRITE, "delete": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignController_findOne",
        summary="Get Campaign",
        tags=TAG,
        parameters=[ID],
        responses={200: CampaignSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """The campaign document; 404 for another organization's or a deleted campaign."""
        return Response(campaign_document(self.get_campaign(request, id), read_again=False))

    @extend_schema(
        operation_id="CampaignController_update",
        summary="Update Campaign",
        tags=TAG,
        parameters=[ID],
        request=CampaignUpdateSerializer,
        responses={200: CampaignSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def patch(self, request, id):
        """Apply a partial update; `status: "ended"` ends the campaign. Refusals are 400s naming the
        field; a campaign created through /v2/campaign takes nothing but status (v2 is immutable)."""
        campaign = self.get_campaign(request, id)
        serializer = CampaignUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        if campaign.api_version == 2 and changes.fields:
            names = {"earliest_at": "schedule", "latest_at": "schedule"}
            raise services.ValidationFailed(
                [FieldError(f, IMMUTABLE_V2) for f in sorted({names.get(f, f) for f in changes.fields})]
            )
        try:
            campaign = services.campaign_update(campaign=campaign, by=request.actor, changes=changes)
        except services.InvalidTransition as exc:
            # PATCH is Vapi's: its refusals are 400s naming the field (POST …/end answers 409).
            raise services.ValidationFailed.one(
                "status", f"cannot be set to {request.data['status']}: the campaign is {exc.current}"
            ) from exc
        return Response(campaign_document(campaign))

    @extend_schema(
        operation_id="CampaignController_remove",
        summary="Delete Campaign",
        description="Ends a campaign that has not ended (calls in flight finish and are recorded), then "
        "hides it. Returns the document; the campaign then answers 404 and is no longer listed. "
        "(DELETE /v2/campaign/{id} archives instead.)",
        tags=TAG,
        parameters=[ID],
        responses={200: CampaignSerializer, **MISSING, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        """End (if running) and hide the campaign; returns its document."""
        campaign = services.campaign_delete(campaign=self.get_campaign(request, id), by=request.actor)
        return Response(campaign_document(campaign))


def _lifecycle_view(action: str, service, summary: str, description: str) -> type[ApiView]:
    """POST /campaign/{id}/<action>: 202 with the document, or 409 with the current status."""

    @extend_schema(
        operation_id=f"CampaignController_{action}",
        summary=summary,
        description=f"{description} Dialdeck extension: Vapi has no such endpoint.",
        tags=["Campaign lifecycle (Dialdeck)"],
        parameters=[ID],
        request=None,
        responses={202: CampaignSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def post(self, request, id):
        """202 with the document, or 409 with the current status."""
        campaign = service(campaign=self.get_campaign(request, id), by=request.actor)
        return Response(campaign_document(campaign), status=202)

    name = f"Campaign{action.title()}Api"
    needs = {"post": Action.CAMPAIGNS_WRITE}
    return type(
        name, (ApiView,), {"post": post, "needs": needs, "__doc__": description, "__module__": __name__}
    )


CampaignStartApi = _lifecycle_view(
    "start",
    services.campaign_start,
    "Start Campaign",
    "scheduled → in-progress now (earliestAt moves to now if it was later).",
)
CampaignPauseApi = _lifecycle_view(
    "pause", services.campaign_pause, "Pause Campaign", "in-progress → paused; calls in flight finish."
)
CampaignResumeApi = _lifecycle_view(
    "resume", services.campaign_resume, "Resume Campaign", "paused → in-progress."
)
CampaignEndApi = _lifecycle_view(
    "end",
    services.campaign_end,
    "End Campaign",
    "scheduled, in-progress or paused → ended (like PATCH status ended); customers not yet dialed are "
    "cancelled, calls in flight finish.",
)
