"""The campaign builder: create a campaign, or edit one while it is scheduled or paused.

Submitting (numbered, because the order is the promise "nothing is saved until
every row is good"):
1. read every customers sheet (upload or paste) and check each row; an upload's
   text moves into its paste box so a person can fix bad rows in place;
2. "preview" or "add a caller ID": show the form again with what was read, save nothing;
3. "save": refuse while any field or row is bad, unless "drop the bad rows" is
   ticked (problems with a whole file are never dropped);
4. one service call (create), or update + add customers in one transaction
   (edit); a ValidationFailed puts each FieldError next to its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import clock, selectors, services
from campaigns.forms.builder import CampaignForm, split_days
from campaigns.forms.customers import CustomerSheet, count_skips, read_sheet, text_from
from campaigns.forms.dial_plan import DialPlanFormSet
from campaigns.forms.errors import attach
from campaigns.models import Campaign
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view
from campaigns.views.campaign_detail import campaign_or_404

MAX_PLAN_LINES = 20


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit(request, None)
    org = request.organization
    form = CampaignForm(organization=org)
    plan = DialPlanFormSet(prefix="plan", form_kwargs={"organization": org}, initial=[{}, {}])
    return _render(request, form, plan, [], None)


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_edit(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    if not campaign.is_editable:
        messages.error(
            request, f"A campaign can be edited while scheduled or paused; this one is {campaign.status}."
        )
        return redirect("campaigns:detail", pk=campaign.pk)
    if request.method == "POST":
        return _submit(request, campaign)
    return _render(
        request,
        CampaignForm(organization=request.organization, campaign=campaign),
        None,
        [],
        campaign,
        preflight=selectors.campaign_preflight(campaign, clock.now()) if campaign.customers_total else None,
    )


def _render(
    request: HtmxHttpRequest,
    form: CampaignForm,
    plan: Any,
    sheets: list[CustomerSheet],
    campaign: Campaign | None,
    *,
    leftovers: list[str] | None = None,
    status: int = 200,
    preflight: Any = None,
) -> HttpResponse:
    org = request.organization
    with_plan = plan is not None
    if campaign is None and plan is None:  # the dial plan lines stay on the page, hidden, to switch to
        plan = DialPlanFormSet(prefix="plan", form_kwargs={"organization": org}, initial=[{}, {}])
    context = {
        "form": form,
        "plan": plan,
        "campaign": campaign,
        "sheet": sheets[0] if sheets and not with_plan else None,
        "plan_lines": [
            (line, sheets[i] if with_plan and i < len(sheets) else None) for i, line in enumerate(plan.forms)
        ]
        if plan
        else [],
        "leftovers": leftovers or [],
        "split_days": bool(campaign and split_days(campaign)),
        "dial_plan": list(campaign.dial_plan.select_related("phone_number"))
        if campaign and campaign.uses_dial_plan
        else [],
        "has_caller_ids": selectors.phone_numbers_for(org).exists(),
        "bad_rows": any(not s.clean for s in sheets),
        "bad_row_count": sum(len(s.bad) for s in sheets),
        "refused": status == 422,
        "preflight": preflight,
        "preflight_url": reverse("campaigns:edit-preflight", args=[campaign.pk])
        if campaign
        else reverse("campaigns:create-preflight"),
    }
    return render(request, "campaigns/builder.html", context, status=status)


def _read_sheets(
    request: HtmxHttpRequest, data: Any, *, plan_lines: int | None, schema: dict | None = None
) -> list[CustomerSheet]:
    """Step 1: every sheet of the submission, read and checked (against the campaign's data
    `schema`, when it has one); uploads move into their paste boxes."""
    seen: dict[str, str] = {}
    prefixes = [""] if plan_lines is None else [f"plan-{i}-" for i in range(plan_lines)]
    sheets = []
    for i, prefix in enumerate(prefixes):
        text, problems = text_from(
            request.FILES.get(f"{prefix}customers_file"), data.get(f"{prefix}customers_text", "")
        )
        data[f"{prefix}customers_text"] = text
        label = "Customers" if plan_lines is None else f"caller ID {i + 1}"
        sheets.append(read_sheet(text, label=label, seen=seen, problems=problems, schema=schema))
    count_skips(request.organization, sheets)
    return sheets


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_builder_preflight(request: HtmxHttpRequest, pk: object = None) -> HttpResponse:
    """The builder's pre-flight of what is on the form, saved or not (asked as its fields change)."""
    campaign = campaign_or_404(request, pk) if pk is not None else None
    if campaign is not None and not campaign.is_editable:
        raise Http404("Only a scheduled or paused campaign is edited")
    form, plan, sheets = _read(request, campaign)
    draft, preflight = _draft_preflight(request, form, plan, sheets, campaign)
    context = {
        "preflight": preflight,
        "campaign": draft or campaign,
        "pending_fix": preflight is None,
        "preflight_url": request.path,
    }
    return render(request, "campaigns/partials/_builder_preflight.html", context)


def _draft_preflight(
    request: HtmxHttpRequest,
    form: CampaignForm,
    plan: Any,
    sheets: list[CustomerSheet],
    campaign: Campaign | None,
) -> tuple[Campaign | None, Any]:
    """(the campaign as it would be, its pre-flight) if the form were saved now, saving nothing
    (services.dry_run); (None, None) when the form, a sheet or the save would be refused."""

    def would_be() -> tuple[Campaign, Any]:
        if campaign is None:
            draft = _create(request, form, plan, sheets)
        else:
            draft, _ = _update(request, form, campaign, sheets)
        return draft, selectors.campaign_preflight(draft, clock.now())

    if not form.is_valid() or (plan is not None and not plan.is_valid()) or any(s.blocked for s in sheets):
        return None, None
    if not any(s.good for s in sheets) and (campaign is None or not campaign.customers_total):
        return None, None
    try:
        return services.dry_run(would_be)
    except services.DomainError:  # refused (a field, a transition): saving says why, not this
        return None, None


def _read(
    request: HtmxHttpRequest, campaign: Campaign | None, *, add_line: bool = False
) -> tuple[CampaignForm, Any, list[CustomerSheet]]:
    """Step 1, and the form and dial plan lines of what was posted (`add_line`: one more line)."""
    org = request.organization
    data = request.POST.copy()
    with_plan = campaign is None and data.get("caller_mode") == "dial_plan"
    lines = None
    if with_plan:
        try:
            lines = max(1, min(MAX_PLAN_LINES, int(data.get("plan-TOTAL_FORMS", "1"))))
        except ValueError:
            lines = 1
    sheets = (
        []
        if campaign is not None and campaign.uses_dial_plan
        else _read_sheets(request, data, plan_lines=lines, schema=campaign.data_schema if campaign else None)
    )
    if add_line and lines is not None and lines < MAX_PLAN_LINES:
        data["plan-TOTAL_FORMS"] = str(lines + 1)
        sheets.append(CustomerSheet(label=f"caller ID {lines + 1}"))
    form = CampaignForm(data, organization=org, campaign=campaign)
    plan = DialPlanFormSet(data, prefix="plan", form_kwargs={"organization": org}) if with_plan else None
    return form, plan, sheets


def _submit(request: HtmxHttpRequest, campaign: Campaign | None) -> HttpResponse:
    intent = request.POST.get("intent", "save")
    form, plan, sheets = _read(request, campaign, add_line=intent == "add_line")
    valid = form.is_valid() & (plan is None or plan.is_valid())
    if intent in ("preview", "add_line"):  # 2.
        preflight = (
            _draft_preflight(request, form, plan, sheets, campaign)[1] if intent == "preview" else None
        )
        return _render(request, form, plan, sheets, campaign, preflight=preflight)
    if valid:
        _require_customers(form, plan, sheets, campaign)
    drop = form.cleaned_data.get("drop_bad_rows") if valid else False
    blocked = any(s.blocked for s in sheets) or (any(not s.clean for s in sheets) and not drop)
    if (
        not form.is_valid() or (plan is not None and not all(f.is_valid() for f in plan.forms)) or blocked
    ):  # 3.
        return _render(request, form, plan, sheets, campaign, status=422)
    try:  # 4.
        if campaign is None:
            campaign, verb, note = _create(request, form, plan, sheets), "Created", ""
        else:
            campaign, note = _update(request, form, campaign, sheets)
            verb = "Saved"
    except services.ValidationFailed as exc:
        leftovers = _attach_plan_errors(plan, exc.errors) if plan is not None else exc.errors
        return _render(
            request,
            form,
            plan,
            sheets,
            campaign,
            leftovers=attach(form, leftovers, form.field_for),
            status=422,
        )
    messages.success(request, f"{verb} “{campaign.name}”.{note}")
    return redirect("campaigns:detail", pk=campaign.pk)


def _require_customers(
    form: CampaignForm, plan: Any, sheets: list[CustomerSheet], campaign: Campaign | None
) -> None:
    if plan is not None:
        used = [
            (f, s)
            for f, s in zip(plan.forms, sheets, strict=False)
            if f.is_valid() and (f.used or not s.empty)
        ]
        if not used:
            form.add_error("caller_mode", "Add at least one caller ID with its customers.")
        for line, sheet in used:
            if line.cleaned_data.get("phone_number") is None:
                line.add_error("phone_number", "Choose the caller ID that calls these customers.")
            if sheet.empty:
                line.add_error("customers_text", "Add the customers this caller ID calls.")
    elif campaign is None and sheets and sheets[0].empty:
        form.add_error("customers_text", "Add at least one customer: upload a CSV file or paste rows.")


def _rows(sheet: CustomerSheet) -> list[services.CustomerInput]:
    return list(sheet.good)  # bad rows were never yielded: what is left is what "drop" keeps


def _create(request: HtmxHttpRequest, form: CampaignForm, plan: Any, sheets: list[CustomerSheet]) -> Campaign:
    target, value = form.target()
    dial_plan = None
    if plan is not None:
        dial_plan = [
            services.DialPlanInput(str(f.cleaned_data["phone_number"].pk), _rows(s))
            for f, s in zip(plan.forms, sheets, strict=False)
            if f.cleaned_data.get("phone_number") is not None
        ]
    number = form.cleaned_data.get("phone_number")
    data = services.CampaignInput(
        name=form.cleaned_data["name"].strip(),
        **{target: value},
        phone_number_id=str(number.pk) if plan is None and number else None,
        customers=_rows(sheets[0]) if plan is None else None,
        dial_plan=dial_plan,
        earliest_at=form.cleaned_data.get("earliest_at"),
        latest_at=form.cleaned_data.get("latest_at"),
        strategy=form.strategy(),
        caller_id_pool=form.caller_pool() if plan is None else None,
    )
    return services.campaign_create(organization=request.organization, by=request.user, data=data)


def _update(
    request: HtmxHttpRequest, form: CampaignForm, campaign: Campaign, sheets: list[CustomerSheet]
) -> tuple[Campaign, str]:
    changed = set(form.changed_data)
    changes = services.CampaignChanges(fields={"name"}, name=form.cleaned_data["name"].strip())
    if changed & {"agent_kind", "agent_id"}:
        changes.fields.add("target")
        changes.target = form.target()
    if "phone_number" in changed and form.cleaned_data.get("phone_number") is not None:
        changes.fields.add("phone_number_id")
        changes.phone_number_id = str(form.cleaned_data["phone_number"].pk)
    for name in ("earliest_at", "latest_at"):
        if name in changed:
            changes.fields.add(name)
            setattr(changes, name, form.cleaned_data.get(name))
    strategy = form.strategy(changed_only=True)
    if strategy:
        changes.fields.add("strategy")
        changes.strategy = strategy
    if form.pool_changed and not campaign.uses_dial_plan:
        changes.fields.add("caller_id_pool")
        changes.caller_id_pool = form.caller_pool()
    note = ""
    with transaction.atomic():
        campaign = services.campaign_update(campaign=campaign, by=request.user, changes=changes)
        if sheets and sheets[0].good:
            result = services.customers_add(campaign=campaign, by=request.user, rows=_rows(sheets[0]))
            note = f" Added {result.added} customers" + (
                f" ({result.duplicates} already in the campaign were skipped)." if result.duplicates else "."
            )
    return campaign, note


def _attach_plan_errors(plan: Any, errors: list[services.FieldError]) -> list[services.FieldError]:
    """Errors naming dial_plan.i go next to the i-th dial plan line in use; the rest are returned."""
    used = [f for f in plan.forms if f.cleaned_data.get("phone_number") is not None]
    leftovers = []
    for error in errors:
        parts = error.field.split(".")
        if parts[0] == "dial_plan" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) < len(used):
            name = "phone_number" if parts[2] == "phone_number_id" else "customers_text"
            used[int(parts[1])].add_error(name, error.message)
        else:
            leftovers.append(error)
    return leftovers
