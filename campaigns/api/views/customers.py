"""/campaign/{id}/customers and /campaign/{id}/calls: Dialdeck extensions, paginated like Vapi's lists."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.pagination import paginate
from campaigns.api.parsers import VapiJSONParser
from campaigns.api.serializers import (
    CallListQuery,
    CallRecordSerializer,
    CustomerListQuery,
    CustomerRecordSerializer,
    CustomerSerializer,
    CustomersUploadSerializer,
    ImportResultSerializer,
    customer_rows,
    paginated,
    read_query,
)
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.importers import parse_customers_csv
from campaigns.permissions import Action

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
        parameters=[ID, CustomerListQuery],
        responses={200: CustomerPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One page of the campaign's customers, in the order they were added."""
        campaign = self.get_campaign(request, id)
        query = read_query(CustomerListQuery, request.query_params)
        customers = selectors.campaign_customers(
            campaign, state=query["state"], reason=query["reason"], objective=query["objective"]
        )
        return Response(
            paginate(
                customers,
                page=query["page"],
                limit=query["limit"],
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
                raise ValidationError({"file": ["is required: upload the CSV in a field named file"]})
            rows = parse_customers_csv(upload)
        else:
            rows = customer_rows(request.data)
        result = services.customers_add(campaign=campaign, by=request.actor, rows=rows)
        return Response(ImportResultSerializer(result).data, status=201)


class CampaignCallsApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignCallController_findAll",
        summary="List Campaign Calls",
        description="Every attempt to call a customer of the campaign, newest first by default. "
        "`include=log` adds what was asked of the provider and what it answered.",
        tags=TAG,
        parameters=[ID, CallListQuery],
        responses={200: CallPageSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One page of the campaign's calls, newest first by default."""
        campaign = self.get_campaign(request, id)
        query = read_query(CallListQuery, request.query_params)
        include_log = query["include"] == "log"
        calls = selectors.campaign_calls(
            campaign,
            status=query["status"],
            ended_reason=query["endedReason"],
            include_log=include_log,
            descending=query["sortOrder"] == "DESC",
        )
        return Response(
            paginate(
                calls,
                page=query["page"],
                limit=query["limit"],
                render=lambda items: (
                    CallRecordSerializer(items, many=True, context={"include_log": include_log}).data
                ),
            )
        )


class OutcomeFieldCountSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="A value of the enum, or true/false.")
    customers = serializers.IntegerField()


class OutcomeFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="An enum or boolean property of analysisSchema.")
    counts = OutcomeFieldCountSerializer(many=True)


class OutcomeSummarySerializer(serializers.Serializer):
    """What a campaign's calls achieved, from each customer's latest valid structured result."""

    analysed = serializers.IntegerField(help_text="Customers with a valid structured result.")
    objectiveMet = serializers.IntegerField(help_text="Of those, customers whose objective was met.")
    objectiveMetRate = serializers.FloatField(
        allow_null=True, help_text="objectiveMet / analysed; null before any."
    )
    optOuts = serializers.IntegerField(
        help_text="Numbers added to the do-not-call list on this campaign's calls."
    )
    fields = OutcomeFieldSerializer(many=True)


class CampaignOutcomesApi(ApiView):
    needs = {"get": Action.CAMPAIGNS_READ}

    @extend_schema(
        operation_id="CampaignOutcomeController_summary",
        summary="Campaign Outcome Summary",
        description="Objective met (count and rate) and the distribution of each enum and boolean "
        "field of the campaign's analysisSchema among its customers (each customer's latest valid "
        "result), and the opt-outs its calls brought.",
        tags=TAG,
        parameters=[ID],
        responses={200: OutcomeSummarySerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        campaign = self.get_campaign(request, id)
        summary = selectors.campaign_outcome_summary(campaign)
        return Response(
            {
                "analysed": summary.analysed,
                "objectiveMet": summary.objective_met,
                "objectiveMetRate": summary.objective_rate,
                "optOuts": selectors.opt_outs_of_campaign(campaign),
                "fields": [
                    {"name": f.name, "counts": [{"value": v, "customers": n} for v, n in f.counts]}
                    for f in summary.fields
                ],
            }
        )
