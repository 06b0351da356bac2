"""The campaigns list: filter, search, page; its rows refresh themselves while a campaign runs."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors
from campaigns.models import CampaignStatus
from campaigns.permissions import Action
from campaigns.views.base import (
    HtmxHttpRequest,
    current_membership,
    dashboard_view,
    page_or_fragment,
    wants_fragment,
)

PAGE_SIZE = 25


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_list(request: HtmxHttpRequest) -> HttpResponse:
    """Full page, or (htmx) the rows fragment: for the filter form and for the 2-second refresh."""
    status = request.GET.get("status", "")
    status = status if status in CampaignStatus.values else ""
    search = request.GET.get("q", "").strip()[:100]
    filters = selectors.CampaignFilters(status=status, name_contains=search)
    campaigns = selectors.campaigns_for(request.organization, filters, with_related=True)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = selectors.live_version(*page)
    if wants_fragment(request) and request.GET.get("v") == shown:
        return HttpResponse(status=204)  # a refresh that would change nothing swaps nothing
    now = timezone.now()
    query = request.GET.copy()
    for key in ("page", "v"):
        query.pop(key, None)
    context = {
        "version": shown,
        "page": page,
        "status": status,
        "search": search,
        "statuses": CampaignStatus.choices,
        "query": query.urlencode(),
        "poll": any(selectors.is_watched(c, now) for c in page),
    }
    return page_or_fragment(request, "campaigns/list.html", "campaigns/partials/_campaign_rows.html", context)


@require_POST
@dashboard_view(Action.ORGANIZATION_SWITCH)
def organization_switch(request: HtmxHttpRequest) -> HttpResponseRedirect:
    """Remember which of the user's organizations the dashboard shows (the API's session calls too)."""
    chosen = request.POST.get("organization", "")
    _, memberships = current_membership(request)
    if any(str(m.organization_id) == chosen for m in memberships):
        request.session["organization_id"] = chosen
    return HttpResponseRedirect(reverse("campaigns:list"))
