"""/provider-account (a Dialdeck extension, admins and API keys): list, create, read, change and
test the organization's provider accounts. Credentials are write-only (never in an answer)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import connections, selectors, services
from campaigns.api.serializers.providers import (
    ConnectionCheckSerializer,
    ProviderAccountCreateSerializer,
    ProviderAccountSerializer,
    ProviderAccountUpdateSerializer,
)
from campaigns.api.views.base import ID, INVALID, MISSING, UNAUTHORIZED, ApiView
from campaigns.models import ProviderAccount
from campaigns.permissions import Action
from campaigns.services import NotFound

TAG = ["Provider accounts (Dialdeck)"]


def _account(request, account_id) -> ProviderAccount:
    account = selectors.provider_account_for(request.organization, account_id)
    if account is None:
        raise NotFound("provider account not found")
    return account


class ProviderAccountListApi(ApiView):
    needs = {"get": Action.PROVIDERS_READ, "post": Action.PROVIDERS_WRITE}

    @extend_schema(
        operation_id="ProviderAccountController_findAll",
        summary="List Provider Accounts",
        description="The organization's provider accounts, by name; credentials are never returned.",
        tags=TAG,
        responses={200: ProviderAccountSerializer(many=True), **UNAUTHORIZED},
    )
    def get(self, request):
        """Every live provider account of the organization."""
        accounts = selectors.provider_accounts_for(request.organization)
        return Response(ProviderAccountSerializer(accounts, many=True).data)

    @extend_schema(
        operation_id="ProviderAccountController_create",
        summary="Create Provider Account",
        description="Checks the kind's settings and credentials (each problem named by its field) and "
        "a base URL the workers may send to; nothing is saved when one is refused.",
        tags=TAG,
        request=ProviderAccountCreateSerializer,
        responses={201: ProviderAccountSerializer, **INVALID, **UNAUTHORIZED},
    )
    def post(self, request):
        """A new provider account (201)."""
        serializer = ProviderAccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = services.provider_account_create(
            organization=request.organization,
            by=request.actor,
            name=data["name"],
            kind=data["kind"],
            base_url=data.get("baseUrl", ""),
            api_key=data.get("apiKey", ""),
            webhook_secret=data.get("webhookSecret", ""),
            settings=data.get("settings"),
        )
        return Response(ProviderAccountSerializer(account).data, status=201)


class ProviderAccountApi(ApiView):
    needs = {"get": Action.PROVIDERS_READ, "patch": Action.PROVIDERS_WRITE}

    @extend_schema(
        operation_id="ProviderAccountController_findOne",
        summary="Get Provider Account",
        tags=TAG,
        parameters=[ID],
        responses={200: ProviderAccountSerializer, **MISSING, **UNAUTHORIZED},
    )
    def get(self, request, id):
        """One provider account; 404 for another organization's or a retired one."""
        return Response(ProviderAccountSerializer(_account(request, id)).data)

    @extend_schema(
        operation_id="ProviderAccountController_update",
        summary="Update Provider Account",
        description="Changes what is given (the kind stays); an absent or empty credential keeps the "
        "stored one. Checked as on create; nothing is saved when one field is refused.",
        tags=TAG,
        parameters=[ID],
        request=ProviderAccountUpdateSerializer,
        responses={200: ProviderAccountSerializer, **INVALID, **MISSING, **UNAUTHORIZED},
    )
    def patch(self, request, id):
        """Change the account's name, base URL, settings or credentials."""
        account = _account(request, id)
        serializer = ProviderAccountUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = services.provider_account_update(
            account=account,
            by=request.actor,
            name=data.get("name", account.name),
            base_url=data.get("baseUrl", account.base_url),
            settings=data.get("settings", account.settings or {}),
            api_key=data.get("apiKey", ""),
            webhook_secret=data.get("webhookSecret", ""),
        )
        return Response(ProviderAccountSerializer(account).data)


class ProviderAccountTestApi(ApiView):
    needs = {"post": Action.PROVIDERS_WRITE}

    @extend_schema(
        operation_id="ProviderAccountController_testConnection",
        summary="Test Provider Connection",
        description="Makes a harmless authenticated request to the provider with the stored "
        "credentials (nothing is placed or changed) and says what came of it: 200 whatever the "
        "provider answered, `ok` false when it refused or could not be reached.",
        tags=TAG,
        parameters=[ID],
        request=None,
        responses={200: ConnectionCheckSerializer, **MISSING, **UNAUTHORIZED},
    )
    def post(self, request, id):
        """Ask the provider something harmless with the account's credentials."""
        found = connections.check(_account(request, id))
        body = {"ok": found.ok, "summary": found.summary}
        if found.http_status is not None:
            body["httpStatus"] = found.http_status
        return Response(body)
