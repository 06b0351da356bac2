"""/campaign/{id}/customers and /campaign/{id}/calls: Dialdeck extensions, paginated like Vapi's lists."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.pagination import PAGE_PARAMETERS, Query, paginate
from campaigns.api.parsers import VapiJSONParser
from campaigns.api.serializers import (
    CallRecordSerializer,
    CustomerRecordSerializer,
    CustomerSerializer,
    CustomersUploadSerializer,
    ImportResultSerializer,
    paginated,
    read_customers,
)
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.importers import parse_customers_csv
from campaigns.models import CallStatus, CustomerState
from campaigns.permissions import Action
from campaigns.services import FieldError, ValidationFailed

TAG = ["Campaign customers and calls (Dialdeck)"]
CustomerPageSerializer = paginated(
    "CampaignCustomerPaginatedResponse", CustomerRecordSerializer, "One page of a campaign's customers."
)
CallPageSerializer = paginated(
    "CampaignCallPaginatedResponse", CallRecordSerializer, "One page of a campaign's calls."
)


class CampaignCustomersApi(ApiView):
    parser_classes = [VapiJSONParser, MultiPartParser]
    body_path = "customers"  # a bare array of customers: its errors read customers.3.number
    needs = {"get": Action.CAMPAIGNS_READ, "post": Action.CAMPAIGNS_WRITE}

    @extend_schema(
        operation_id="CampaignCustomerController_findAll",
        summary="List Campaign Customers",
        description="Customers in the order they were added, with their dialing state.",
        tags=TAG,
        parameters=[
            ID,
            OpenApiParameter("state", str, enum=CustomerState.values),
            OpenApiParameter("reason", str, description="e.g. do_not_call, outside_calling_hours."),
            *PAGE_PARAMETERS,
        ],
        responses={200: CustomerPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One page of the campaign's customers, in the order they were added."""
        campaign = self.get_campaign(request, id)
        query = Query(request.query_params)
        page, limit = query.page()
        state = query.choice("state", tuple(CustomerState.values))
        query.check()
        customers = selectors.campaign_customers(campaign, state=state, reason=query.text("reason"))
        return Response(
            paginate(
                customers,
                page=page,
                limit=limit,
                render=lambda items: CustomerRecordSerializer(items, many=True).data,
            )
        )

    @extend_schema(
        operation_id="CampaignCustomerController_add",
        summary="Add Campaign Customers",
        description="Bulk add: a JSON array of customers (CreateCustomerDTO) or a CSV `file` upload, "
        "100,000 rows and more per request, all or nothing. Every bad row is reported, by index "
        "(`customers.7.number …`) or by line (`line 7: number …`). Numbers already in the campaign "
        "are skipped and counted. Not for campaigns that use a dialPlan or have ended.",
        tags=TAG,
        parameters=[ID],
        request={
            "application/json": OpenApiRequest(CustomerSerializer(many=True)),
            "multipart/form-data": OpenApiRequest(CustomersUploadSerializer),
        },
        responses={201: ImportResultSerializer, **INVALID, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def post(self, request, id):
        """Add customers from a JSON array or a streamed CSV upload: 201 with counts, or 400 naming
        every bad row; nothing is saved then."""
        campaign = self.get_campaign(request, id)
        if request.content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed.one("file", "is required: upload the CSV in a field named file")
            rows = parse_customers_csv(upload)
        else:
            rows = self._json_rows(request.data)
        result = services.customers_add(campaign=campaign, by=request.actor, rows=rows)
        return Response(result.as_dict(), status=201)

    @staticmethod
    def _json_rows(data) -> list[services.CustomerInput]:
        if not isinstance(data, list):
            raise ValidationFailed.one(
                "", "request body must be an array of customers, or a multipart/form-data CSV upload"
            )
        if not data:
            raise ValidationFailed.one("customers", "must contain at least 1 elements")
        errors: list[FieldError] = []
        rows = read_customers(data, "customers", errors)
        if errors:
            raise ValidationFailed(errors)
        return rows


class CampaignCallsApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignCallController_findAll",
        summary="List Campaign Calls",
        description="Every attempt to call a customer of the campaign, newest first by default. "
        "`include=log` adds what was asked of the provider and what it answered.",
        tags=TAG,
        parameters=[
            ID,
            OpenApiParameter("status", str, enum=CallStatus.values),
            OpenApiParameter("endedReason", str, description="Vapi's Call.endedReason, e.g. voicemail."),
            OpenApiParameter("include", str, enum=["log"], description="log: add each call's log."),
            OpenApiParameter(
                "sortOrder", str, enum=["ASC", "DESC"], description="By createdAt; default DESC."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: CallPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One page of the campaign's calls, newest first by default."""
        campaign = self.get_campaign(request, id)
        query = Query(request.query_params)
        page, limit = query.page()
        status = query.choice("status", tuple(CallStatus.values))
        include_log = query.choice("include", ("log",)) == "log"
        descending = query.choice("sortOrder", ("ASC", "DESC"), "DESC") == "DESC"
        query.check()
        calls = selectors.campaign_calls(
            campaign,
            status=status,
            ended_reason=query.text("endedReason"),
            include_log=include_log,
            descending=descending,
        )
        return Response(
            paginate(
                calls,
                page=page,
                limit=limit,
                render=lambda items: (
                    CallRecordSerializer(items, many=True, context={"include_log": include_log}).data
                ),
            )
        )
