"""A supervisor's work on customers: one customer's page, and actions on chosen customers or on
every customer the list's filter matches.

Bulk actions ask first, counted: the first post shows "Cancel 3 customers?" (in the page, under
the form, for htmx; as a page of its own without it) with the choice or the filter kept in the
form; only the confirming post calls the service (campaigns.services.operations, dnc_add).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.models import AuditEvent, Campaign, Customer, CustomerState
from campaigns.permissions import Action
from campaigns.rules.reasons import Reason
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment
from campaigns.views.campaign_detail import campaign_or_404

# action -> (question, what was done). {all}: "all " when the action is on every match of a filter.
BULK = {
    "cancel": (
        "Cancel {all}{n} customer{s}{matching}? Those still waiting are never called.",
        "Cancelled {done} of {n}.",
    ),
    "retry": (
        "Call {all}{n} customer{s}{matching} again as soon as the rules allow?",
        "{done} of {n} are due now.",
    ),
    "dnc": (
        "Add the numbers of {n} customer{s} to the do-not-call list? No campaign calls them again.",
        "{done} number{done_s} added to the do-not-call list.",
    ),
    "move": (
        "Move {all}{n} customer{s}{matching} into “{to}”? Only those never called yet move.",
        "Moved {done} of {n} into “{to}”.",
    ),
}
DOING = {"cancel": "cancelled", "retry": "called again", "move": "moved", "dnc": "added to do-not-call"}


def _matching(request: HtmxHttpRequest) -> services.CustomerFilter:
    """The customers list's filter as the bulk form carries it (match_*), checked like the list's."""
    state = request.POST.get("match_state", "")
    reason = request.POST.get("match_reason", "")
    objective = request.POST.get("match_objective", "")
    return services.CustomerFilter(
        state=state if state in CustomerState.values else "",
        reason=reason if reason in {r.value for r in Reason} else "",
        objective=objective if objective in selectors.OBJECTIVE_FILTERS else "",
        q=request.POST.get("match_q", "").strip()[:100],
    )


def _describe(matching: services.CustomerFilter) -> str:
    parts = [
        f"{k} “{v}”"
        for k, v in (
            ("search", matching.q),
            ("state", matching.state),
            ("reason", matching.reason),
            ("objective", matching.objective),
        )
        if v
    ]
    return f" matching {', '.join(parts)}" if parts else ""


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def customer_detail(request: HtmxHttpRequest, pk: object, customer_pk: object) -> HttpResponse:
    """One customer: data and variables, every attempt, why it waits, and what was done to it."""
    campaign = campaign_or_404(request, pk)
    customer = selectors.customer_for(campaign, customer_pk)
    if customer is None:
        raise Http404("No such customer in this campaign")
    trail = AuditEvent.objects.filter(
        organization=request.organization, target_type="customer", target_id=str(customer.pk)
    ).select_related("actor")[:50]
    context = {
        "campaign": campaign,
        "customer": customer,
        "calls": selectors.customer_calls(customer),
        "inbound_calls": selectors.customer_calls(customer, direction="inbound"),
        "overrides": json.dumps(customer.assistant_overrides, indent=2, ensure_ascii=False)
        if customer.assistant_overrides
        else "",
        "metadata": json.dumps(customer.metadata, indent=2, ensure_ascii=False) if customer.metadata else "",
        "trail": list(trail),
    }
    return render(request, "campaigns/customer.html", context)


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_duplicate(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """A new scheduled campaign with this one's settings and customers, named "<name> (copy)"."""
    campaign = campaign_or_404(request, pk)
    data = services.CampaignInput(
        name=f"{campaign.name} (copy)"[:255], duplicate_from_id=str(campaign.pk), given={"name"}
    )
    try:
        copy = services.campaign_create(organization=request.organization, by=request.user, data=data)
    except services.ValidationFailed as exc:
        messages.error(request, "Could not duplicate it: " + "; ".join(str(e) for e in exc.errors))
        return redirect("campaigns:detail", pk=campaign.pk)
    messages.success(request, f"Duplicated: “{copy.name}” is scheduled and waits for Start.")
    return redirect("campaigns:detail", pk=copy.pk)


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def customers_bulk(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """Ask (counted), then do. `scope=filtered`: every customer the list's filter matches."""
    campaign = campaign_or_404(request, pk)
    action = request.POST.get("action", "")
    everyone = request.POST.get("scope") == "filtered"
    ids = [i for i in request.POST.getlist("customer") if selectors.as_uuid(i)][:1000]
    matching = _matching(request) if everyone else None
    to = None
    problem = ""
    if action not in BULK:
        problem = "Choose an action."
    elif not everyone and not ids:
        problem = "Choose at least one customer, or every customer matching the filter."
    elif everyone and action == "dnc":
        problem = "Adding to the do-not-call list works on chosen customers only (up to 1,000)."
    elif action == "move":
        to = next(
            (c for c in selectors.campaigns_to_move_into(campaign) if str(c.pk) == request.POST.get("to")),
            None,
        )
        if to is None:
            problem = "Choose the campaign to move them into (a scheduled or paused one)."
    if not problem and matching is not None:
        refused = services.filter_refusal(matching, DOING[action])
        problem = f"Could not do that: {refused}." if refused else ""
    if problem:
        return _refuse(request, campaign, problem)
    if matching is not None:
        rows = selectors.campaign_customers(campaign, **matching.as_dict()).filter(
            state=CustomerState.PENDING
        )
    else:
        rows = Customer.objects.filter(campaign=campaign, pk__in=ids)
    if action == "move" and to is not None:
        rows = services.movable(rows, to)
    question, done_text = BULK[action]
    words = {
        "to": to.name if to else "",
        "all": "all " if everyone else "",
        "matching": _describe(matching) if matching else "",
    }
    if request.POST.get("confirmed") != "yes":
        n = rows.count()
        context = {
            "campaign": campaign,
            "action": action,
            "scope": "filtered" if everyone else "chosen",
            "matching": matching,
            "to": to,
            "n": n,
            "ids": [] if everyone else [str(c) for c in rows.values_list("pk", flat=True)],
            "question": question.format(n=f"{n:,}", s="" if n == 1 else "s", **words),
        }
        return page_or_fragment(
            request, "campaigns/customers_confirm.html", "campaigns/partials/_bulk_confirm.html", context
        )
    # The count the person confirmed (a post without it, from a script: the count now).
    n = _int(request.POST.get("expected"))
    n = rows.count() if n is None else n
    kwargs = {"matching": matching} if everyone else {"customer_ids": ids}
    try:
        if action == "cancel":
            done = services.customers_cancel(campaign=campaign, by=request.user, confirmed=n, **kwargs)
        elif action == "retry":
            done = services.customers_retry_now(campaign=campaign, by=request.user, confirmed=n, **kwargs)
        elif action == "move":
            done = services.customers_move(campaign=campaign, to=to, by=request.user, confirmed=n, **kwargs)
        else:
            numbers = [
                (number, f"from {campaign.name}")
                for number in rows.exclude(number="").values_list("number", flat=True)
            ]
            done = services.dnc_add(organization=request.organization, by=request.user, numbers=numbers)
    except services.InvalidTransition as exc:
        messages.error(request, f"Could not do that: the campaign is {exc.current}.")
    except services.ValidationFailed as exc:
        messages.error(request, "Could not do that: " + "; ".join(str(e) for e in exc.errors) + ".")
    else:
        messages.success(
            request, done_text.format(done=f"{done:,}", n=f"{n:,}", done_s="" if done == 1 else "s", **words)
        )
    return redirect(_back(campaign, matching))


def _refuse(request: HtmxHttpRequest, campaign: Campaign, problem: str) -> HttpResponse:
    if request.htmx:
        return render(
            request,
            "campaigns/partials/_bulk_confirm.html",
            {"campaign": campaign, "problem": problem},
            status=422,
        )
    messages.error(request, problem)
    return redirect("campaigns:customers", pk=campaign.pk)


def _back(campaign: Campaign, matching: services.CustomerFilter | None) -> str:
    """The customers list again, with the filter the action was on."""
    url = reverse("campaigns:customers", args=[campaign.pk])
    query = urlencode({k: v for k, v in matching.as_dict().items() if v}) if matching else ""
    return f"{url}?{query}" if query else url


def _int(value: str | None) -> int | None:
    return int(value) if value and len(value) <= 12 and value.isascii() and value.isdigit() else None
