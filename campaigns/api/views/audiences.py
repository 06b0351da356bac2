"""/contact-list, /segment and /campaign/{id}/audiences: Dialdeck extensions (a Vapi client never
needs them). Lists hold contacts de-duplicated by canonical number; a campaign targets lists and
segments while scheduled and copies their contacts into its customers when it starts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import clock, selectors, services
from campaigns.api.pagination import paginate
from campaigns.api.parsers import VapiJSONParser
from campaigns.api.serializers import PageQuery, paginated, read_query
from campaigns.api.serializers.audience import (
    CampaignAudienceSerializer,
    CampaignAudiencesSetSerializer,
    CampaignSchemaSerializer,
    ContactImportResultSerializer,
    ContactListCreateSerializer,
    ContactListSerializer,
    ContactPageQuery,
    ContactRecordSerializer,
    ContactRows,
    ContactSerializer,
    ContactsUploadSerializer,
    SegmentCreateSerializer,
    SegmentSerializer,
)
from campaigns.api.serializers.preflight import PreflightSerializer
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.importers.contacts import parse_contacts_csv
from campaigns.models import ContactList, Segment
from campaigns.permissions import Action
from campaigns.services import NotFound

TAG = ["Contact lists and segments (Dialdeck)"]
ListPageSerializer = paginated(
    "ContactListPaginatedResponse", ContactListSerializer, "One page of contact lists."
)
ContactPageSerializer = paginated(
    "ListContactPaginatedResponse", ContactRecordSerializer, "One page of contacts."
)


class _ListView(ApiView):
    def get_list(self, request, list_id) -> ContactList:
        found = selectors.contact_list_for(request.organization, list_id)
        if found is None:
            raise NotFound("contact list not found")
        return found


class ContactListListApi(_ListView):
    needs = {"get": Action.AUDIENCES_READ, "post": Action.AUDIENCES_WRITE}

    @extend_schema(
        operation_id="ContactListController_findAll",
        summary="List Contact Lists",
        description="The organization's contact lists by name, with their segments.",
        tags=TAG,
        parameters=[PageQuery],
        responses={200: ListPageSerializer, **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """One page of the organization's lists."""
        query = read_query(PageQuery, request.query_params)
        return Response(
            paginate(
                selectors.contact_lists_for(request.organization),
                page=query["page"],
                limit=query["limit"],
                render=lambda items: ContactListSerializer(items, many=True).data,
            )
        )

    @extend_schema(
        operation_id="ContactListController_create",
        summary="Create Contact List",
        tags=TAG,
        request=ContactListCreateSerializer,
        responses={201: ContactListSerializer, **INVALID, **UNAUTHORIZED},
    )
    def post(self, request):
        """A new, empty list (201); 400 when the name is empty or taken."""
        serializer = ContactListCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.contact_list_create(
            organization=request.organization,
            by=request.actor,
            name=data["name"],
            description=data.get("description", ""),
            data_schema=data.get("dataSchema"),
            metadata_schema=data.get("metadataSchema"),
        )
        return Response(ContactListSerializer(created).data, status=201)


class ContactListApi(_ListView):
    needs = {"get": Action.AUDIENCES_READ, "delete": Action.AUDIENCES_WRITE}

    @extend_schema(
        operation_id="ContactListController_findOne",
        summary="Get Contact List",
        tags=TAG,
        parameters=[ID],
        responses={200: ContactListSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        return Response(ContactListSerializer(self.get_list(request, id)).data)

    @extend_schema(
        operation_id="ContactListController_remove",
        summary="Delete Contact List",
        description="Deletes the list, its contacts and segments. Campaigns that already started keep "
        "their customers, calls and the record of what they targeted; refused (409) while a "
        "scheduled campaign targets it.",
        tags=TAG,
        parameters=[ID],
        responses={200: ContactListSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        contact_list = self.get_list(request, id)
        document = ContactListSerializer(contact_list).data
        services.contact_list_delete(contact_list=contact_list, by=request.actor)
        return Response(document)


class ContactListContactsApi(_ListView):
    parser_classes = [VapiJSONParser, MultiPartParser]
    body_path = "contacts"
    needs = {"get": Action.AUDIENCES_READ, "post": Action.AUDIENCES_WRITE}

    @extend_schema(
        operation_id="ContactListController_findContacts",
        summary="List Contacts",
        description="The list's contacts in the order they were added; `segmentId` keeps a segment's.",
        tags=TAG,
        parameters=[ID, ContactPageQuery],
        responses={200: ContactPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        contact_list = self.get_list(request, id)
        query = read_query(ContactPageQuery, request.query_params)
        segment = None
        if query["segmentId"]:
            segment = selectors.segment_for(request.organization, query["segmentId"])
            if segment is None or segment.contact_list_id != contact_list.pk:
                raise ValidationError({"segmentId": ["does not name a segment of this list"]})
        return Response(
            paginate(
                selectors.list_contacts(contact_list, segment=segment),
                page=query["page"],
                limit=query["limit"],
                render=lambda items: ContactRecordSerializer(items, many=True).data,
                total=None if segment else contact_list.contacts_total,
            )
        )

    @extend_schema(
        operation_id="ContactListController_import",
        summary="Import Contacts",
        description="A JSON array of contacts or a CSV `file` upload, streamed (a million rows and "
        "more), all or nothing: every bad row is reported by index (`contacts.7.timeZone …`) or line "
        "(`line 7: number …`). Numbers already on the list, in any spelling, are skipped and counted.",
        tags=TAG,
        parameters=[ID],
        request={
            "application/json": OpenApiRequest(ContactSerializer(many=True)),
            "multipart/form-data": OpenApiRequest(ContactsUploadSerializer),
        },
        responses={201: ContactImportResultSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def post(self, request, id):
        contact_list = self.get_list(request, id)
        if request.content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": ["is required: upload the CSV in a field named file"]})
            rows = parse_contacts_csv(upload)
        else:
            rows = ContactRows(request.data)
        result = services.contacts_import(contact_list=contact_list, by=request.actor, rows=rows)
        return Response(ContactImportResultSerializer(result).data, status=201)


class ContactListSegmentsApi(_ListView):
    needs = {"get": Action.AUDIENCES_READ, "post": Action.AUDIENCES_WRITE}

    @extend_schema(
        operation_id="SegmentController_findAll",
        summary="List Segments",
        tags=TAG,
        parameters=[ID],
        responses={200: SegmentSerializer(many=True), **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        contact_list = self.get_list(request, id)
        return Response(SegmentSerializer(contact_list.segments.all(), many=True).data)

    @extend_schema(
        operation_id="SegmentController_create",
        summary="Create Segment",
        description="A saved filter over the list's attributes, e.g. `plan = premium AND state IN (CA, NV)`: "
        "`=`, `!=`, `IN (…)`, `NOT IN (…)`, AND, OR, parentheses; quote values with spaces ('a b'). "
        "A filter that cannot be read is refused with where and why.",
        tags=TAG,
        parameters=[ID],
        request=SegmentCreateSerializer,
        responses={201: SegmentSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def post(self, request, id):
        contact_list = self.get_list(request, id)
        serializer = SegmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        segment = services.segment_create(
            contact_list=contact_list, by=request.actor, name=data["name"], filter=data["filter"]
        )
        return Response(SegmentSerializer(segment).data, status=201)


class SegmentApi(ApiView):
    needs = {"get": Action.AUDIENCES_READ, "delete": Action.AUDIENCES_WRITE}

    def get_segment(self, request, segment_id) -> Segment:
        segment = selectors.segment_for(request.organization, segment_id)
        if segment is None:
            raise NotFound("segment not found")
        return segment

    @extend_schema(
        operation_id="SegmentController_findOne",
        summary="Get Segment",
        description="The segment and how many contacts it holds now.",
        tags=TAG,
        parameters=[ID],
        responses={200: SegmentSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        segment = self.get_segment(request, id)
        return Response(SegmentSerializer(segment, context={"size": True}).data)

    @extend_schema(
        operation_id="SegmentController_remove",
        summary="Delete Segment",
        description="Refused (409) while a scheduled campaign targets it.",
        tags=TAG,
        parameters=[ID],
        responses={200: SegmentSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        segment = self.get_segment(request, id)
        document = SegmentSerializer(segment).data
        services.segment_delete(segment=segment, by=request.actor)
        return Response(document)


class CampaignAudiencesApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "put": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignAudienceController_findAll",
        summary="List Campaign Audiences",
        description="The lists and segments the campaign targets; after its start, what each added.",
        tags=TAG,
        parameters=[ID],
        responses={200: CampaignAudienceSerializer(many=True), **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        campaign = self.get_campaign(request, id)
        return Response(CampaignAudienceSerializer(selectors.campaign_audiences(campaign), many=True).data)

    @extend_schema(
        operation_id="CampaignAudienceController_set",
        summary="Set Campaign Audiences",
        description="While the campaign is scheduled: the lists and segments whose contacts it copies "
        "into its customers when it starts (a snapshot; later changes to the lists do not reach it). "
        "Numbers it already has are skipped; do-not-call ones are added as skipped. 409 once started.",
        tags=TAG,
        parameters=[ID],
        request=CampaignAudiencesSetSerializer,
        responses={
            200: CampaignAudienceSerializer(many=True),
            **INVALID,
            **MISSING,
            **CONFLICT,
            **UNAUTHORIZED,
        },
    )
    def put(self, request, id):
        campaign = self.get_campaign(request, id)
        serializer = CampaignAudiencesSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.campaign_audiences_set(
            campaign=campaign,
            by=request.actor,
            list_ids=data.get("contactListIds", []),
            segment_ids=data.get("segmentIds", []),
        )
        return Response(CampaignAudienceSerializer(selectors.campaign_audiences(campaign), many=True).data)


class CampaignSchemaApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ, "put": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignSchemaController_findOne",
        summary="Get Campaign Data Schema",
        tags=["Typed customer data (Dialdeck)"],
        parameters=[ID],
        responses={200: CampaignSchemaSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        return Response(CampaignSchemaSerializer(self.get_campaign(request, id)).data)

    @extend_schema(
        operation_id="CampaignSchemaController_set",
        summary="Set Campaign Data Schema",
        description="A JSON Schema (draft 2020-12) every customer's data (assistantOverrides.variableValues) "
        "must meet; null drops it. Dialdeck: `metadataSchema` the same for customers' metadata (absent: "
        "unchanged). The customers already there must meet it (400 naming each failure by "
        "position, path and reason); from then on every customer added (JSON, CSV, a list's snapshot at "
        "start) is checked. Each change counts a new `version`. 409 once the campaign has ended.",
        tags=["Typed customer data (Dialdeck)"],
        parameters=[ID],
        request=CampaignSchemaSerializer,
        responses={200: CampaignSchemaSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def put(self, request, id):
        campaign = self.get_campaign(request, id)
        serializer = CampaignSchemaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        given = serializer.validated_data
        changed = services.campaign_schema_set(
            campaign=campaign,
            by=request.actor,
            data_schema=given.get("dataSchema"),
            metadata_schema=given.get("metadataSchema", services.KEEP_SCHEMA),
        )
        return Response(CampaignSchemaSerializer(changed).data)


class CampaignPreflightApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignPreflightController_findOne",
        summary="Campaign Pre-flight",
        description="Before a start (or any time): how many customers the campaign could call now and "
        "later under its hours, zones, holidays, region rules and caller IDs; how many never, and why; "
        "how many were skipped at import; how many have no local caller ID; and an estimated finish. "
        "Read from grouped counts: its cost grows with the distinct zones and number prefixes, not "
        "with the customers.",
        tags=TAG,
        parameters=[ID],
        responses={200: PreflightSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        campaign = self.get_campaign(request, id)
        return Response(PreflightSerializer(selectors.campaign_preflight(campaign, clock.now())).data)
