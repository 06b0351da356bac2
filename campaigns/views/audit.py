"""The audit log page, for admins: who changed what, when, before and after, filterable."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from campaigns.permissions import Action
from campaigns.selectors.audit import AUDIT_PAGE, audit_events
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment

TARGETS = ("campaign", "customer", "organization", "donotcall", "phonenumber", "apikey", "membership")


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


@require_GET
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    filters = {
        "action": request.GET.get("action", "").strip()[:60],
        "actor": request.GET.get("actor", "").strip()[:150],
        "target_type": request.GET.get("target_type", "")
        if request.GET.get("target_type") in TARGETS
        else "",
    }
    before = _moment(request.GET.get("before", ""))
    rows = list(audit_events(request.organization, **filters, before=before)[: AUDIT_PAGE + 1])
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "events": rows,
        "filters": filters,
        "targets": TARGETS,
        "older": urlencode({"before": rows[-1].created_at.isoformat()}) if more and rows else "",
        "query": query,
    }
    return page_or_fragment(request, "campaigns/audit.html", "campaigns/partials/_audit_rows.html", context)
