"""The organization page: its compliance settings (admins), the organization-wide stop (any
manager may pull it, only an admin lifts it), the secret that signs campaign events (admins
rotate it: the new one is shown once, in the answer to that POST, never cached), and the
recent history of all three.

Admins reach it at organization/settings; managers, who may only pause, at organization/pause
(the same page, without the settings form: the permission table gives one action per view).
Changes post a plain form, then redirect back (post/redirect/get) with a message; a refused
change shows the page again with the error next to its field and nothing saved. Pausing asks
for a ticked box in the same form, not a script's dialog: the page runs no inline script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import clock, selectors, services
from campaigns.forms.errors import attach, simple
from campaigns.forms.organization import OrganizationSettingsForm, PauseAllForm, region_label
from campaigns.models import AuditEvent, CampaignStatus, Organization
from campaigns.models.org import SIGNING_SECRET_GRACE
from campaigns.permissions import Action, allowed
from campaigns.services.organization import (
    COMPLIANCE_FIELDS,
    SETTINGS_FIELDS,
    organization_signing_secret_rotate,
)
from campaigns.views.base import HtmxHttpRequest, dashboard_view

HISTORY_SIZE = 20
TITLES = {
    "organization.update": "Changed the settings",
    "organization.pause": "Paused all dialing",
    "organization.resume": "Resumed all dialing",
    "organization.signing_secret_rotate": "Rotated the campaign events' signing secret",
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    title: str
    changes: list[Change]


def _label(field: str) -> str:
    if field == "dialing_paused":
        return "All dialing"
    form_field = OrganizationSettingsForm.base_fields.get(field)
    return str(form_field.label) if form_field else field.replace("_", " ").capitalize()


def _value(field: str, value: Any) -> str:
    """A setting's value in words, as the page and the history show it."""
    if field == "dialing_paused":
        return "paused" if value else "on"
    if field == "default_region":
        return region_label(value or "")
    if field == "quota_mode":
        return str(dict(Organization._meta.get_field("quota_mode").choices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not set"
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)


def _history(organization: Organization) -> list[HistoryEntry]:
    """The last changes of the organization itself, newest first, each with what it changed."""
    events = AuditEvent.objects.filter(
        organization=organization, action__startswith="organization."
    ).select_related("actor", "api_key")[:HISTORY_SIZE]
    entries = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        changes = [
            Change(_label(key), _value(key, before.get(key)), _value(key, after.get(key)))
            for key in after
            if before.get(key) != after.get(key)
        ]
        entries.append(HistoryEntry(event, TITLES.get(event.action, event.action), changes))
    return entries


def _dialing(organization: Organization) -> dict[str, Any]:
    """Whether the organization dials, who paused it and when, and how many campaigns it holds."""
    paused_by = ""
    if organization.dialing_paused_at is not None:
        event = (
            AuditEvent.objects.filter(organization=organization, action="organization.pause")
            .select_related("actor", "api_key")
            .first()
        )
        paused_by = event.actor_label if event else ""
    in_progress = selectors.CampaignFilters(status=CampaignStatus.IN_PROGRESS)
    return {
        "paused_at": organization.dialing_paused_at,
        "paused_by": paused_by,
        "running": selectors.campaigns_for(organization, in_progress).count(),
    }


def _page(
    request: HtmxHttpRequest,
    *,
    form: OrganizationSettingsForm | None = None,
    pause_form: PauseAllForm | None = None,
    new_secret: str = "",
    status: int = 200,
) -> HttpResponse:
    organization = request.organization
    context = {
        "dialing": _dialing(organization),
        "pause_form": pause_form or PauseAllForm(),
        "history": _history(organization),
        "settings": [(_label(f), _value(f, getattr(organization, f))) for f in COMPLIANCE_FIELDS],
        "usage": selectors.organization_usage(organization, clock.now()),
    }
    if allowed(request.membership.role, Action.ORGANIZATION_SETTINGS):
        context["form"] = form or OrganizationSettingsForm(organization=organization)
        context["signing"] = {
            "hint": organization.event_signing_secret_hint,
            "rotated_at": organization.event_signing_secret_rotated_at,
            "grace_hours": int(SIGNING_SECRET_GRACE.total_seconds() // 3600),
            "new_secret": new_secret,
        }
    return render(request, "campaigns/organization.html", context, status=status)


def _back(request: HtmxHttpRequest) -> HttpResponse:
    """To the page as this person reaches it (see the module docstring)."""
    if allowed(request.membership.role, Action.ORGANIZATION_SETTINGS):
        return redirect("campaigns:organization-settings")
    return redirect("campaigns:organization-pause")


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def organization_settings(request: HtmxHttpRequest) -> HttpResponse:
    """The page; a POST saves the compliance, billing and quota settings through
    services.organization_update."""
    if request.method == "GET":
        return _page(request)
    form = OrganizationSettingsForm(request.POST, organization=request.organization)
    if form.is_valid():
        if not form.has_changed():
            messages.info(request, "Nothing to save: the settings were already these.")
            return redirect("campaigns:organization-settings")
        try:
            services.organization_update(
                organization=request.organization,
                by=request.user,
                changes=services.OrganizationChanges(fields=set(SETTINGS_FIELDS), **form.cleaned_data),
            )
        except services.ValidationFailed as exc:
            for message in attach(form, exc.errors, simple({f: f for f in SETTINGS_FIELDS})):
                form.add_error(None, message)
        else:
            changed = ", ".join(_label(field).lower() for field in form.changed_data)
            messages.success(request, f"Saved. Changed: {changed}.")
            return redirect("campaigns:organization-settings")
    return _page(request, form=form, status=422)


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.ORGANIZATION_PAUSE)
def organization_pause(request: HtmxHttpRequest) -> HttpResponse:
    """The page for those who may pause (managers have no other); a POST with the box ticked
    stops every campaign at once through services.organization_pause."""
    if request.method == "GET":
        return _page(request)
    form = PauseAllForm(request.POST)
    if not form.is_valid():
        return _page(request, pause_form=form, status=422)
    try:
        services.organization_pause(organization=request.organization, by=request.user)
    except services.InvalidTransition:
        messages.error(request, "All dialing was already paused: nothing changed.")
    else:  # done as asked, yet a state to keep in mind: a warning, not a green success
        messages.warning(
            request,
            "All dialing is paused: no campaign starts a new call. Calls already under way finish.",
        )
    return _back(request)


@require_POST
@dashboard_view(Action.ORGANIZATION_RESUME)
def organization_resume(request: HtmxHttpRequest) -> HttpResponse:
    """Lift the organization-wide stop: campaigns that were running place calls again."""
    try:
        services.organization_resume(organization=request.organization, by=request.user)
    except services.InvalidTransition:
        messages.error(request, "Dialing was not paused: nothing changed.")
    else:
        messages.success(request, "All dialing resumed: campaigns in progress place calls again.")
    return _back(request)


@require_POST
@never_cache
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def organization_signing_secret(request: HtmxHttpRequest) -> HttpResponse:
    """Rotate the secret that signs campaign events (services.organization_signing_secret_rotate):
    201 with the page showing the new secret this once; not a redirect, which would need it stored."""
    organization, secret = organization_signing_secret_rotate(
        organization=request.organization, by=request.user
    )
    request.organization = organization
    return _page(request, new_secret=secret, status=201)
