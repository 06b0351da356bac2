"""GET /organization/usage (a Dialdeck extension): the calling organization's usage this billing
period, its included minutes and quota (campaigns.selectors.organization_usage)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import clock, selectors
from campaigns.api.serializers.usage import OrganizationUsageSerializer
from campaigns.api.views.base import UNAUTHORIZED, ApiView
from campaigns.permissions import Action


class OrganizationUsageApi(ApiView):
    needs = {"get": Action.ORGANIZATION_USAGE}

    @extend_schema(
        operation_id="OrganizationController_usage",
        summary="Get Organization Usage",
        description="Calls, conversation minutes and cost in the current billing period (it starts at "
        "00:00 UTC on the organization's billing day of the month), with the included minutes and "
        "the quota mode set on the organization page. In pause mode, once the included minutes are "
        "used no new call leaves until the next period (customers wait with reason quota_spent).",
        tags=["Organization (Dialdeck)"],
        responses={200: OrganizationUsageSerializer, **UNAUTHORIZED},
    )
    def get(self, request):
        """The organization's usage this billing period."""
        usage = selectors.organization_usage(request.organization, clock.now())
        return Response(OrganizationUsageSerializer(usage).data)
