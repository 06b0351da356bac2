"""The organization's calendar (admins): blackout dates (holidays: nobody is called on them, in
their own zone) and region rules (where law narrows hours), listed, added and removed one at a
time. Forms post (boosted by htmx: no full reload), then redirect back with a message
(post/redirect/get); a refused one shows the page again with the error beside its field (focused
by static/js/dialdeck.js) and nothing saved."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import services
from campaigns.forms.calendar import BlackoutDateForm, RegionRuleForm, region_rule_field
from campaigns.forms.errors import attach
from campaigns.permissions import Action
from campaigns.rules.strategy import WEEKDAY_SHORT_NAMES, WEEKDAYS
from campaigns.views.base import HtmxHttpRequest, dashboard_view


def _rules(organization: Any) -> list[dict[str, Any]]:
    """Each region rule with its windows in words ("Mon–Fri 08:00–20:00" per distinct window)."""
    shown = []
    for index, rule in enumerate(organization.region_rules or []):
        by_hours: dict[tuple[str, str], list[str]] = {}
        for window in sorted(rule["windows"], key=lambda w: WEEKDAYS.index(w["day"])):
            by_hours.setdefault((window["start"], window["end"]), []).append(
                WEEKDAY_SHORT_NAMES[window["day"]]
            )
        hours = "; ".join(f"{', '.join(days)} {start}–{end}" for (start, end), days in by_hours.items())
        closed = [WEEKDAY_SHORT_NAMES[d] for d in WEEKDAYS if d not in {w["day"] for w in rule["windows"]}]
        shown.append(
            {
                "index": index,
                "region": rule["region"],
                "hours": hours,
                "closed": closed,
                "note": rule.get("note", ""),
            }
        )
    return shown


def _page(
    request: HtmxHttpRequest,
    *,
    blackout_form: BlackoutDateForm | None = None,
    rule_form: RegionRuleForm | None = None,
    leftovers: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = request.organization
    organization.refresh_from_db(fields=["blackout_dates", "region_rules"])
    context = {
        "blackout_dates": organization.blackout_dates or [],
        "rules": _rules(organization),
        "blackout_form": blackout_form or BlackoutDateForm(),
        "rule_form": rule_form or RegionRuleForm(),
        "leftovers": leftovers or [],
    }
    return render(request, "campaigns/calendar.html", context, status=status)


@require_GET
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def organization_calendar(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def blackout_add(request: HtmxHttpRequest) -> HttpResponse:
    form = BlackoutDateForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["day"].isoformat()
        try:
            services.organization_blackout_add(organization=request.organization, by=request.user, day=day)
        except services.ValidationFailed as exc:
            return _page(request, blackout_form=form, leftovers=attach(form, exc.errors), status=422)
        messages.success(request, f"Nobody is called on {day} any more.")
        return redirect("campaigns:organization-calendar")
    return _page(request, blackout_form=form, status=422)


@require_POST
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def blackout_remove(request: HtmxHttpRequest) -> HttpResponse:
    day = request.POST.get("day", "")
    try:
        services.organization_blackout_remove(organization=request.organization, by=request.user, day=day)
    except services.ValidationFailed as exc:
        messages.error(request, "; ".join(e.message for e in exc.errors).capitalize() + ".")
    else:
        messages.success(request, f"{day} is an ordinary day again.")
    return redirect("campaigns:organization-calendar")


@require_POST
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def region_rule_add(request: HtmxHttpRequest) -> HttpResponse:
    form = RegionRuleForm(request.POST)
    if form.is_valid():
        rule = form.rule()
        try:
            services.organization_region_rule_add(
                organization=request.organization, by=request.user, rule=rule
            )
        except services.ValidationFailed as exc:
            leftovers = attach(form, exc.errors, region_rule_field)
            return _page(request, rule_form=form, leftovers=leftovers, status=422)
        messages.success(request, f"Callees in {rule['region']} are called only in the hours of its rule.")
        return redirect("campaigns:organization-calendar")
    return _page(request, rule_form=form, status=422)


@require_POST
@dashboard_view(Action.ORGANIZATION_SETTINGS)
def region_rule_remove(request: HtmxHttpRequest) -> HttpResponse:
    index = request.POST.get("index", "")
    region = request.POST.get("region", "")
    try:
        services.organization_region_rule_remove(
            organization=request.organization,
            by=request.user,
            index=int(index) if index.isascii() and index.isdigit() and len(index) < 6 else -1,
            region=region,
        )
    except services.ValidationFailed as exc:
        messages.error(request, "; ".join(e.message for e in exc.errors).capitalize() + ".")
    else:
        messages.success(request, f"The rule for {region} is removed.")
    return redirect("campaigns:organization-calendar")
