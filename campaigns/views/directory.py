"""The do-not-call list and the caller IDs: read by every member, changed by managers (DNC) or admins.

Changes post a form, then redirect back (post/redirect/get) with a message; a
refused change shows the page again with the service's error next to its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.forms.directory import CallerIdCapsForm, CallerIdForm, DoNotCallAddForm, DoNotCallImportForm
from campaigns.forms.errors import attach, simple
from campaigns.importers import parse_numbers_csv
from campaigns.models import DoNotCallSource
from campaigns.permissions import Action
from campaigns.rules import caller_ids as caller_id_rules
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment

# -- do-not-call ---------------------------------------------------------------------------------


def _dnc_context(request: HtmxHttpRequest, **forms: Any) -> dict[str, Any]:
    search = request.GET.get("q", "").strip()[:40]
    page = selectors.do_not_call_page(
        request.organization,
        search=search,
        older_than=request.GET.get("older", ""),
        newer_than=request.GET.get("newer", ""),
    )
    return {
        "entries": page,
        "search": search,
        "add_form": forms.get("add_form") or DoNotCallAddForm(),
        "import_form": forms.get("import_form") or DoNotCallImportForm(),
        "import_errors": forms.get("import_errors", []),
    }


@require_GET
@dashboard_view(Action.DNC_READ)
def do_not_call(request: HtmxHttpRequest) -> HttpResponse:
    """The list; for htmx (the search box, the pager) only its rows."""
    return page_or_fragment(
        request, "campaigns/do_not_call.html", "campaigns/partials/_dnc_rows.html", _dnc_context(request)
    )


@require_POST
@dashboard_view(Action.DNC_WRITE)
def do_not_call_add(request: HtmxHttpRequest) -> HttpResponse:
    form = DoNotCallAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.dnc_add(
                organization=request.organization,
                by=request.user,
                numbers=[(form.cleaned_data["number"], form.cleaned_data["note"])],
                source=DoNotCallSource.MANUAL,
            )
        except services.ValidationFailed as exc:
            attach(form, exc.errors, simple({"numbers.0": "number"}))
        else:
            messages.success(
                request, "Added to the list." if added else "That number was already on the list."
            )
            return redirect("campaigns:do-not-call")
    return render(request, "campaigns/do_not_call.html", _dnc_context(request, add_form=form), status=422)


@require_POST
@dashboard_view(Action.DNC_WRITE)
def do_not_call_import(request: HtmxHttpRequest) -> HttpResponse:
    """A CSV of numbers: every bad line is listed and nothing is saved until all are good."""
    form = DoNotCallImportForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        rows = parse_numbers_csv(
            form.cleaned_data["file"], region=request.organization.default_region or None
        )
        numbers = list(rows)
        errors = [str(e) for e in rows.errors]
        if not errors:
            try:
                added = services.dnc_add(
                    organization=request.organization,
                    by=request.user,
                    numbers=numbers,
                    source=DoNotCallSource.IMPORT,
                )
            except services.ValidationFailed as exc:
                errors = [f"row {int(e.field.split('.')[1]) + 1}: {e.message}" for e in exc.errors]
            else:
                messages.success(request, f"Imported {len(numbers)} numbers ({added} new).")
                return redirect("campaigns:do-not-call")
    context = _dnc_context(request, import_form=form, import_errors=errors)
    return render(request, "campaigns/do_not_call.html", context, status=422)


@require_POST
@dashboard_view(Action.DNC_WRITE)
def do_not_call_remove(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    entry = selectors.do_not_call_entry_for(request.organization, pk)
    if entry is None:
        raise Http404("No such entry")
    services.dnc_remove(entry=entry, by=request.user)
    messages.success(request, f"Removed {entry.number}: it may be called again.")
    return redirect("campaigns:do-not-call")


# -- caller IDs ----------------------------------------------------------------------------------


def _caller_ids_page(
    request: HtmxHttpRequest,
    form: CallerIdForm | None = None,
    *,
    caps: CallerIdCapsForm | None = None,
    caps_for: object = None,
    status: int = 200,
) -> HttpResponse:
    numbers = list(selectors.phone_numbers_for(request.organization).select_related("provider_account"))
    health = selectors.caller_id_health(numbers)
    for number in numbers:
        number.health = health.get(number.pk)
        number.caps_form = (
            caps
            if caps is not None and number.pk == caps_for
            else CallerIdCapsForm(
                prefix_pk=number.pk,
                initial={
                    "max_concurrent_calls": number.max_concurrent_calls,
                    "max_daily_calls": number.max_daily_calls,
                },
            )
        )
    context = {
        "numbers": numbers,
        "form": form or CallerIdForm(organization=request.organization),
        "health_window": caller_id_rules.HEALTH_WINDOW,
        "rest_below": f"{caller_id_rules.REST_BELOW:.0%}",
    }
    return render(request, "campaigns/caller_ids.html", context, status=status)


@require_GET
@dashboard_view(Action.CALLER_IDS_READ)
def caller_ids(request: HtmxHttpRequest) -> HttpResponse:
    return _caller_ids_page(request)


@require_POST
@dashboard_view(Action.CALLER_IDS_WRITE)
def caller_id_add(request: HtmxHttpRequest) -> HttpResponse:
    form = CallerIdForm(request.POST, organization=request.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            number = services.phone_number_create(
                organization=request.organization,
                by=request.user,
                number=data["number"],
                provider_account=data["provider_account"],
                name=data["name"],
                provider_phone_number_id=data["provider_phone_number_id"],
            )
        except services.ValidationFailed as exc:
            leftovers = attach(
                form, exc.errors, simple({"number": "number", "providerAccountId": "provider_account"})
            )
            for message in leftovers:
                form.add_error(None, message)
        else:
            messages.success(request, f"Added the caller ID {number.number}.")
            return redirect("campaigns:caller-ids")
    return _caller_ids_page(request, form, status=422)


@require_POST
@dashboard_view(Action.CALLER_IDS_WRITE)
def caller_id_remove(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    number = selectors.phone_number_for(request.organization, pk)
    if number is None:
        raise Http404("No such caller ID")
    try:
        services.phone_number_delete(phone_number=number, by=request.user)
    except services.InvalidTransition as exc:
        messages.error(request, f"Could not remove {number.number}: {exc}.")
    else:
        messages.success(request, f"Removed the caller ID {number.number}.")
    return redirect("campaigns:caller-ids")


@require_POST
@dashboard_view(Action.CALLER_IDS_WRITE)
def caller_id_update(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """One caller ID's switch (`do`: disable, enable, lift-rest) or its caps (`do`: caps)."""
    number = selectors.phone_number_for(request.organization, pk)
    if number is None:
        raise Http404("No such caller ID")
    action = request.POST.get("do", "")
    caps = None
    if action == "caps":
        caps = CallerIdCapsForm(request.POST, prefix_pk=number.pk)
        if not caps.is_valid():
            return _caller_ids_page(request, caps=caps, caps_for=number.pk, status=422)
        changes: dict[str, Any] = dict(caps.cleaned_data)
    elif action in ("disable", "enable"):
        changes = {"disabled": action == "disable"}
    elif action == "lift-rest":
        changes = {}
    else:
        raise Http404("No such action")
    try:
        services.phone_number_update(
            phone_number=number, by=request.user, changes=changes, lift_rest=action == "lift-rest"
        )
    except services.ValidationFailed as exc:
        caps = caps or CallerIdCapsForm(prefix_pk=number.pk)
        for message in attach(caps, exc.errors):
            messages.error(request, message)
        return _caller_ids_page(request, caps=caps, caps_for=number.pk, status=422)
    done = {
        "caps": "Saved the caps of",
        "disable": "Disabled",
        "enable": "Enabled",
        "lift-rest": "Lifted the rest of",
    }[action]
    messages.success(request, f"{done} {number.number}.")
    return redirect("campaigns:caller-ids")
