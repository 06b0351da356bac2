"""What every dashboard view shares: who is asking, for which organization, and page-or-fragment rendering.

- `dashboard_view(need=...)` requires a login and a membership, picks the
  organization (the one chosen in the session, else the first), refuses a role
  that may not do this with 403, and activates the organization's time zone so
  templates and forms speak in it.
- `page_or_fragment` renders the full page, or only the fragment for an htmx
  request that asked for one (django-htmx example app: one view, two renderings).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from campaigns.models import Membership, Organization


class HtmxHttpRequest(HttpRequest):
    """The request as dashboard views see it (set by HtmxMiddleware and `dashboard_view`)."""

    htmx: HtmxDetails
    membership: Membership
    memberships: list[Membership]
    organization: Organization


class Need(StrEnum):
    READ = "read"  # any member, viewers included
    CAMPAIGNS = "campaigns"  # managers and admins: run campaigns, edit the do-not-call list
    ADMIN = "admin"  # admins: API keys, provider accounts, caller IDs, members


REFUSALS = {
    Need.CAMPAIGNS: "Viewers can look but not change anything. Ask an admin for the manager role.",
    Need.ADMIN: "Only the organization's admins can do this.",
}


def _allowed(membership: Membership, need: Need) -> bool:
    if need == Need.CAMPAIGNS:
        return membership.can_manage_campaigns
    if need == Need.ADMIN:
        return membership.is_admin
    return True


def current_membership(request: HttpRequest) -> tuple[Membership | None, list[Membership]]:
    """The membership of the organization chosen in the session (else the first one), and all of them."""
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name")
    )
    chosen = str(request.session.get("organization_id", ""))
    for membership in memberships:
        if str(membership.organization_id) == chosen:
            return membership, memberships
    return (memberships[0] if memberships else None), memberships


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "campaigns/forbidden.html", {"message": message}, status=403)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def dashboard_view(need: Need = Need.READ) -> Callable:
    """Login, membership, role and time zone for a dashboard view (see the module docstring)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership, memberships = current_membership(request)
            if membership is None:
                return forbidden(request, "Your account is not a member of any organization yet.")
            request.membership, request.memberships = membership, memberships
            request.organization = membership.organization
            if not _allowed(membership, need):
                return forbidden(request, REFUSALS[need])
            with timezone.override(_zone(request.organization.time_zone)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """An htmx request for a piece of a page (not a boosted navigation, not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(
    request: HtmxHttpRequest, page: str, fragment: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The full page, or only `fragment` (which the page includes) for an htmx request."""
    response = render(request, fragment if wants_fragment(request) else page, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
