"""Contact lists and their segments (audiences.*), and what a campaign targets (campaigns.write).

Changes post a form, then redirect back (post/redirect/get) with a message; a refused change
shows the page again (422) with the service's errors next to their fields, or every bad row of
an import listed above the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.forms.audiences import (
    CampaignAudiencesForm,
    CampaignCalendarForm,
    ContactImportForm,
    ContactListForm,
    SegmentForm,
)
from campaigns.forms.errors import attach
from campaigns.importers.contacts import parse_contacts_csv
from campaigns.models import TERMINAL_STATUSES, Campaign, CampaignStatus, ContactList
from campaigns.permissions import Action
from campaigns.rules.schemas import fields_of
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment

PAGE = 50
MAX_ERRORS_SHOWN = 200


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


def _list_or_404(request: HtmxHttpRequest, pk: object) -> ContactList:
    found = selectors.contact_list_for(request.organization, pk)
    if found is None:
        raise Http404("No such list in this organization")
    return found


def _lists_page(
    request: HtmxHttpRequest, form: ContactListForm | None = None, *, status: int = 200
) -> HttpResponse:
    context = {"lists": selectors.contact_lists_for(request.organization), "form": form or ContactListForm()}
    return render(request, "campaigns/audiences.html", context, status=status)


@require_GET
@dashboard_view(Action.AUDIENCES_READ)
def audiences(request: HtmxHttpRequest) -> HttpResponse:
    return _lists_page(request)


@require_POST
@dashboard_view(Action.AUDIENCES_WRITE)
def audience_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactListForm(request.POST)
    if form.is_valid():
        try:
            created = services.contact_list_create(
                organization=request.organization, by=request.user, **form.cleaned_data
            )
        except services.ValidationFailed as exc:
            attach(form, exc.errors)
        else:
            messages.success(request, f"Created the list {created.name}. Import its contacts below.")
            return redirect("campaigns:audience", pk=created.pk)
    return _lists_page(request, form, status=422)


def _contacts(request: HtmxHttpRequest, contact_list: ContactList) -> dict[str, Any]:
    """A page of the list's contacts (keyset on position), of one segment if asked."""
    segment = None
    chosen = request.GET.get("segment", "")
    if chosen:
        segment = selectors.segment_for(request.organization, chosen)
        segment = segment if segment is not None and segment.contact_list_id == contact_list.pk else None
    after = request.GET.get("after", "")
    rows = selectors.list_contacts(contact_list, segment=segment)
    if after.isascii() and after.isdigit() and len(after) <= 18:
        rows = rows.filter(position__gt=int(after))
    found = list(rows[: PAGE + 1])
    return {
        "contacts": found[:PAGE],
        "next_after": found[PAGE - 1].position if len(found) > PAGE else None,
        "paged": bool(after),
        "segment": segment,
    }


def _list_page(
    request: HtmxHttpRequest, contact_list: ContactList, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "contact_list": contact_list,
        "segments": contact_list.segments.all(),
        "on_do_not_call": selectors.list_contacts_on_do_not_call(contact_list),
        "import_form": forms.get("import_form") or ContactImportForm(),
        "import_errors": forms.get("import_errors", []),
        "segment_form": forms.get("segment_form") or SegmentForm(),
        # The list's data schema names its attributes: they are the contacts table's columns.
        "schema_fields": fields_of(contact_list.data_schema)[:8],
        **_contacts(request, contact_list),
    }
    return page_or_fragment(
        request, "campaigns/audience.html", "campaigns/partials/_list_contacts.html", context, status=status
    )


@require_GET
@dashboard_view(Action.AUDIENCES_READ)
def audience(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """The list: its contacts (a segment's, when one is chosen), segments, import and segment forms."""
    return _list_page(request, _list_or_404(request, pk))


@require_POST
@dashboard_view(Action.AUDIENCES_WRITE)
def audience_import(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """A CSV of contacts, streamed: every bad line is listed and nothing is saved until all are good."""
    contact_list = _list_or_404(request, pk)
    form = ContactImportForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        try:
            result = services.contacts_import(
                contact_list=contact_list, by=request.user, rows=parse_contacts_csv(form.cleaned_data["file"])
            )
        except services.ValidationFailed as exc:
            errors = [str(e) for e in exc.errors]
        else:
            messages.success(
                request,
                f"Imported {result.added} contacts ({result.duplicates} already on the list, skipped).",
            )
            return redirect("campaigns:audience", pk=contact_list.pk)
    if len(errors) > MAX_ERRORS_SHOWN:
        errors = [*errors[:MAX_ERRORS_SHOWN], f"… and {len(errors) - MAX_ERRORS_SHOWN} more"]
    return _list_page(request, contact_list, status=422, import_form=form, import_errors=errors)


@require_POST
@dashboard_view(Action.AUDIENCES_WRITE)
def audience_delete(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    contact_list = _list_or_404(request, pk)
    try:
        services.contact_list_delete(contact_list=contact_list, by=request.user)
    except services.InvalidTransition as refused:
        messages.error(request, _sentence(refused))
        return redirect("campaigns:audience", pk=contact_list.pk)
    messages.success(
        request, f"Deleted the list {contact_list.name}. Campaigns keep their customers and calls."
    )
    return redirect("campaigns:audiences")


@require_POST
@dashboard_view(Action.AUDIENCES_WRITE)
def audience_segment_add(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    contact_list = _list_or_404(request, pk)
    form = SegmentForm(request.POST)
    if form.is_valid():
        try:
            segment = services.segment_create(contact_list=contact_list, by=request.user, **form.cleaned_data)
        except services.ValidationFailed as exc:
            attach(form, exc.errors)
        else:
            messages.success(request, f"Saved the segment {segment.name}: {segment.filter}")
            return redirect("campaigns:audience", pk=contact_list.pk)
    return _list_page(request, contact_list, status=422, segment_form=form)


@require_POST
@dashboard_view(Action.AUDIENCES_WRITE)
def audience_segment_delete(request: HtmxHttpRequest, pk: object, segment_pk: object) -> HttpResponse:
    contact_list = _list_or_404(request, pk)
    segment = selectors.segment_for(request.organization, segment_pk)
    if segment is None or segment.contact_list_id != contact_list.pk:
        raise Http404("No such segment in this list")
    try:
        services.segment_delete(segment=segment, by=request.user)
    except services.InvalidTransition as refused:
        messages.error(request, _sentence(refused))
    else:
        messages.success(request, f"Deleted the segment {segment.name}.")
    return redirect("campaigns:audience", pk=contact_list.pk)


# -- a campaign's audiences ------------------------------------------------------------------------


def audiences_context(
    request: HtmxHttpRequest, campaign: Campaign, form: CampaignAudiencesForm | None = None
) -> dict:
    """What the campaign page's Audiences card shows: what it targets (and copied), and while it is
    scheduled the form to change that."""
    chosen = selectors.campaign_audiences(campaign)
    context: dict[str, Any] = {"audiences": chosen, "audiences_form": None, "calendar_form": None}
    if campaign.status not in TERMINAL_STATUSES:
        initial = {
            "blackout_dates": "\n".join(campaign.blackout_dates),
            "ambiguous_zones": campaign.ambiguous_zones,
        }
        context["calendar_form"] = CampaignCalendarForm(initial=initial)
    if campaign.status == CampaignStatus.SCHEDULED and not campaign.uses_dial_plan:
        initial = [f"segment:{a.segment_id}" if a.segment_id else f"list:{a.contact_list_id}" for a in chosen]
        lists = list(selectors.contact_lists_for(request.organization))
        context["audiences_form"] = form or CampaignAudiencesForm(initial={"targets": initial}, lists=lists)
    return context


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_audiences(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = selectors.campaign_for(request.organization, pk)
    if campaign is None:
        raise Http404("No such campaign in this organization")
    form = CampaignAudiencesForm(request.POST, lists=list(selectors.contact_lists_for(request.organization)))
    if not form.is_valid():
        messages.error(request, "Choose lists and segments from the ones shown.")
        return redirect("campaigns:detail", pk=campaign.pk)
    try:
        chosen = services.campaign_audiences_set(
            campaign=campaign, by=request.user, list_ids=form.ids("list"), segment_ids=form.ids("segment")
        )
    except (services.InvalidTransition, services.ValidationFailed) as refused:
        messages.error(request, _sentence(refused))
    else:
        names = ", ".join(a.label for a in chosen) or "no list"
        messages.success(request, f"When it starts, the campaign will copy: {names}.")
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_calendar(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """The campaign's blackout dates and ambiguous-number policy (services.campaign_calendar_set)."""
    campaign = selectors.campaign_for(request.organization, pk)
    if campaign is None:
        raise Http404("No such campaign in this organization")
    form = CampaignCalendarForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the policies shown.")
        return redirect("campaigns:detail", pk=campaign.pk)
    try:
        services.campaign_calendar_set(
            campaign=campaign,
            by=request.user,
            blackout_dates=form.dates(),
            ambiguous_zones=form.cleaned_data["ambiguous_zones"],
        )
    except services.ValidationFailed as refused:
        lines = form.dates()
        problems = [
            f"{lines[int(e.field.split('.')[1])]!r} {e.message}" if e.field.count(".") == 1 else str(e)
            for e in refused.errors
        ]
        messages.error(request, "Nothing was saved: " + "; ".join(problems) + ".")
    except services.InvalidTransition as refused:
        messages.error(request, _sentence(refused))
    else:
        messages.success(request, "Saved the calling calendar.")
    return redirect("campaigns:detail", pk=campaign.pk)
