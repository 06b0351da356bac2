"""What every dashboard view shares: who is asking, for which organization, and page-or-fragment rendering.

- `dashboard_view(need=...)` requires a login and a membership, picks the
  organization (the one chosen in the session, else the first), refuses with 403
  a role the permission table (campaigns/permissions.py) does not allow `need`,
  gives templates the same table as `request.can`, and activates the
  organization's time zone so templates and forms speak in it.
- `page_or_fragment` renders the full page, or only the fragment for an htmx
  request that asked for one (django-htmx example app: one view, two renderings).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from campaigns import jsonlimits
from campaigns.models import Membership, Organization
from campaigns.permissions import Action, Can, allowed, refusal
from campaigns.services import FieldError
from campaigns.services.strategy import is_time_zone


class HtmxHttpRequest(HttpRequest):
    """The request as dashboard views see it (set by HtmxMiddleware and `dashboard_view`)."""

    htmx: HtmxDetails
    membership: Membership
    memberships: list[Membership]
    organization: Organization
    can: Can


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
    """The organization's zone; one the services would refuse today (strategy.TIME_ZONES) reads as UTC."""
    try:
        return ZoneInfo(name if is_time_zone(name) else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def bad_address(request: HttpRequest, problems: list[FieldError]) -> HttpResponse:
    """400 for a query string no page can use (a NUL reaching PostgreSQL would answer 500),
    naming each parameter; links the dashboard writes never hold one."""
    message = "This address is not valid: " + "; ".join(str(p) for p in problems) + "."
    return render(request, "campaigns/forbidden.html", {"message": message}, status=400)


def dashboard_view(need: Action) -> Callable:
    """Login, membership, role and time zone for a dashboard view (see the module docstring).

    `need` is the action the view performs, required so that no view is left out of the
    table; the decorated view carries it as `.need` (the access-matrix test reads it)."""
    need = Action(need)  # a misspelt action fails at import, not at the first request

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership, memberships = current_membership(request)
            if membership is None:
                return forbidden(request, "Your account is not a member of any organization yet.")
            request.membership, request.memberships = membership, memberships
            request.organization = membership.organization
            request.can = Can(membership.role)  # before a refusal too: its page shows the menu
            if not allowed(membership.role, need):
                return forbidden(request, refusal(need))
            problems = jsonlimits.parameter_problems(request.GET)  # one check for every page
            if problems:
                return bad_address(request, problems)
            with timezone.override(_zone(request.organization.time_zone)):
                return view(request, *args, **kwargs)

        wrapper.need = need  # type: ignore[attr-defined]  # copied outward by require_GET/POST's wraps
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
