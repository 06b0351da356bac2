"""The organization overview: every running campaign on one screen, with its rates, what it is
doing and its alerts, and the organization-wide stop. Refreshed every 5 s while the tab is seen."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from campaigns import clock, selectors
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def organization_overview(request: HtmxHttpRequest) -> HttpResponse:
    now = clock.now()
    live = selectors.live_calls_count(request.organization.pk)  # one count for the page and its rows
    context = {
        "rows": selectors.organization_overview(request.organization, now, org_live=live),
        "live_calls": live,
        "checked_at": now,
    }
    return page_or_fragment(
        request, "campaigns/overview.html", "campaigns/partials/_overview_rows.html", context
    )
