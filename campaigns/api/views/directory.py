"""/phone-number (the organization's caller IDs, in Vapi's PhoneNumber shape; paginated at
/v2/phone-number, as Vapi pages them) and /dnc (its do-not-call list, a Dialdeck extension)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.api.pagination import paginate
from campaigns.api.parsers import VapiJSONParser
from campaigns.api.serializers import (
    DoNotCallAddedSerializer,
    DoNotCallCreateSerializer,
    DoNotCallListQuery,
    DoNotCallSerializer,
    DoNotCallUploadSerializer,
    PhoneNumberCreateSerializer,
    PhoneNumberSerializer,
    PhoneNumberUpdateSerializer,
    paginated,
    read_query,
)
from campaigns.api.serializers.query import PhoneNumberListQuery, PhoneNumberPageQuery
from campaigns.api.views.base import CONFLICT, ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.api.views.campaigns import list_echo, time_bounds
from campaigns.importers import parse_numbers_csv
from campaigns.models import DoNotCallSource
from campaigns.permissions import Action
from campaigns.services import NotFound, ValidationFailed

PhoneNumberPageSerializer = paginated(
    "PhoneNumberPaginatedResponse", PhoneNumberSerializer, "One page of the organization's caller IDs."
)
DoNotCallPageSerializer = paginated(
    "DoNotCallPaginatedResponse", DoNotCallSerializer, "One page of the organization's do-not-call list."
)
PHONE_TAG = ["Phone numbers"]
DNC_TAG = ["Do not call (Dialdeck)"]


class PhoneNumberListApi(ApiView):
    needs = {"get": Action.CALLER_IDS_READ, "post": Action.CALLER_IDS_WRITE}

    @extend_schema(
        operation_id="PhoneNumberController_findAll",
        summary="List Phone Numbers",
        description="Vapi's bare array of phone numbers, newest first, at most `limit` (default 100). "
        "Page through them with GET /v2/phone-number.",
        tags=PHONE_TAG,
        parameters=[PhoneNumberListQuery],
        responses={200: PhoneNumberSerializer(many=True), **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """The organization's caller IDs as a bare array (Vapi's `phoneNumbers.list()`)."""
        query = read_query(PhoneNumberListQuery, request.query_params)
        numbers = selectors.phone_numbers_listed(request.organization, bounds=_bounds(query))
        return Response(_numbers_out(list(numbers[: query["limit"]])))

    @extend_schema(
        operation_id="PhoneNumberController_create",
        summary="Create Phone Number",
        description="Registers a caller ID on one of the organization's provider accounts. The body is "
        "Dialdeck's (not Vapi's per-provider create bodies); the answer is Vapi's PhoneNumber.",
        tags=PHONE_TAG,
        request=PhoneNumberCreateSerializer,
        responses={201: PhoneNumberSerializer, **INVALID, **UNAUTHORIZED},
    )
    def post(self, request):
        """Register a caller ID on one of the organization's provider accounts (201)."""
        serializer = PhoneNumberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = selectors.provider_account_for(request.organization, data.provider_account_id)
        if account is None:
            raise ValidationError(
                {"providerAccountId": ["does not name a provider account of this organization"]}
            )
        number = services.phone_number_create(
            organization=request.organization,
            by=request.actor,
            number=data.number,
            provider_account=account,
            name=data.name,
            provider_phone_number_id=data.provider_phone_number_id,
        )
        return Response(_number_out(number), status=201)


class PhoneNumberPageApi(ApiView):
    needs = {"get": Action.CALLER_IDS_READ}

    @extend_schema(
        operation_id="PhoneNumberController_findAllPaginated",
        summary="List Phone Numbers (paginated)",
        description="Vapi's paginated listing of phone numbers: `search` in the number or name, newest "
        "first by default (caller IDs have no cost or duration: every sortBy sorts by createdAt).",
        tags=PHONE_TAG,
        parameters=[PhoneNumberPageQuery],
        responses={200: PhoneNumberPageSerializer, **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """One page of the organization's caller IDs."""
        query = read_query(PhoneNumberPageQuery, request.query_params)
        numbers = selectors.phone_numbers_listed(
            request.organization,
            search=query["search"],
            bounds=_bounds(query),
            descending=query["sortOrder"] == "DESC",
        )
        return Response(
            paginate(
                numbers,
                page=query["page"],
                limit=query["limit"],
                render=lambda items: _numbers_out(list(items)),
                echo=list_echo(query),
            )
        )


def _numbers_out(numbers: list) -> list:
    """Caller IDs with their health (one query for all)."""
    return PhoneNumberSerializer(
        numbers, many=True, context={"health": selectors.caller_id_health(numbers)}
    ).data


def _number_out(number) -> dict:
    return PhoneNumberSerializer(number, context={"health": selectors.caller_id_health([number])}).data


def _bounds(query: dict) -> dict:
    """createdAt and updatedAt bounds, both on the creation time: caller IDs are never updated."""
    return time_bounds(query, {"createdAt": "created_at", "updatedAt": "created_at"})


class PhoneNumberApi(ApiView):
    needs = {
        "get": Action.CALLER_IDS_READ,
        "patch": Action.CALLER_IDS_WRITE,
        "delete": Action.CALLER_IDS_WRITE,
    }

    def get_number(self, request, phone_number_id):
        number = selectors.phone_number_for(request.organization, phone_number_id)
        if number is None:
            raise NotFound("phone number not found")
        return number

    @extend_schema(
        operation_id="PhoneNumberController_findOne",
        summary="Get Phone Number",
        tags=PHONE_TAG,
        parameters=[ID],
        responses={200: PhoneNumberSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One caller ID; 404 for another organization's or a retired one."""
        return Response(_number_out(self.get_number(request, id)))

    @extend_schema(
        operation_id="PhoneNumberController_update",
        summary="Update Phone Number",
        description="Dialdeck: disable or enable the caller ID, set or clear its caps, lift its rest "
        "(`rested: false`). A caller ID disabled here is never used, not even by calls already queued.",
        tags=PHONE_TAG,
        parameters=[ID],
        request=PhoneNumberUpdateSerializer,
        responses={200: PhoneNumberSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def patch(self, request, id):
        """Change the caller ID's switches (200 with it)."""
        number = self.get_number(request, id)
        serializer = PhoneNumberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes, lift = serializer.validated_data
        number = services.phone_number_update(
            phone_number=number, by=request.actor, changes=changes, lift_rest=lift
        )
        return Response(_number_out(number))

    @extend_schema(
        operation_id="PhoneNumberController_remove",
        summary="Delete Phone Number",
        description="Retires the caller ID; refused (409) while a campaign that has not ended uses it.",
        tags=PHONE_TAG,
        parameters=[ID],
        responses={200: PhoneNumberSerializer, **MISSING, **CONFLICT, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        """Retire the caller ID (200 with it), or 409 while a live campaign uses it."""
        number = services.phone_number_delete(phone_number=self.get_number(request, id), by=request.actor)
        return Response(PhoneNumberSerializer(number).data)


class DoNotCallListApi(ApiView):
    parser_classes = [VapiJSONParser, MultiPartParser]
    needs = {"get": Action.DNC_READ, "post": Action.DNC_WRITE}

    @extend_schema(
        operation_id="DoNotCallController_findAll",
        summary="List Do-Not-Call Numbers",
        tags=DNC_TAG,
        parameters=[DoNotCallListQuery],
        responses={200: DoNotCallPageSerializer, **INVALID, **UNAUTHORIZED},
    )
    def get(self, request):
        """One page of the do-not-call list, newest first; `number` searches."""
        query = read_query(DoNotCallListQuery, request.query_params)
        entries = selectors.do_not_call_for(request.organization, number_contains=query["number"].strip())
        return Response(
            paginate(
                entries,
                page=query["page"],
                limit=query["limit"],
                render=lambda items: DoNotCallSerializer(items, many=True).data,
            )
        )

    @extend_schema(
        operation_id="DoNotCallController_create",
        summary="Add Do-Not-Call Numbers",
        description="One number, a list, or a CSV upload; all or nothing, every bad number reported. "
        "Customers not yet dialed with these numbers are skipped at once.",
        tags=DNC_TAG,
        request={
            "application/json": OpenApiRequest(DoNotCallCreateSerializer),
            "multipart/form-data": OpenApiRequest(DoNotCallUploadSerializer),
        },
        responses={201: DoNotCallAddedSerializer, **INVALID, **UNAUTHORIZED},
    )
    def post(self, request):
        """Add numbers (201 with how many were new); all or nothing, every bad number named."""
        if request.content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": ["is required: upload the CSV in a field named file"]})
            rows = parse_numbers_csv(upload, region=request.organization.default_region or None)
            # Lists of numbers are small next to customer files; read it all so nothing is
            # saved when a line is bad (dnc_add does not read a source's errors).
            pairs = list(rows)
            if rows.errors:
                raise ValidationFailed(rows.errors)
            source = DoNotCallSource.IMPORT
        else:
            serializer = DoNotCallCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            pairs, source = serializer.validated_data, DoNotCallSource.API
        added = services.dnc_add(
            organization=request.organization, by=request.actor, numbers=pairs, source=source
        )
        return Response({"added": added}, status=201)


class DoNotCallApi(ApiView):
    needs = {"delete": Action.DNC_WRITE}

    @extend_schema(
        operation_id="DoNotCallController_remove",
        summary="Remove Do-Not-Call Number",
        tags=DNC_TAG,
        parameters=[ID],
        responses={200: DoNotCallSerializer, **MISSING, **UNAUTHORIZED},
    )
    def delete(self, request, id):
        """Remove a number from the list; returns the entry as it was."""
        entry = selectors.do_not_call_entry_for(request.organization, id)
        if entry is None:
            raise NotFound("do-not-call entry not found")
        document = DoNotCallSerializer(entry).data
        services.dnc_remove(entry=entry, by=request.actor)
        return Response(document)
