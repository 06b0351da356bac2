"""A supervisor's work on customers: one customer's page, and actions on chosen customers.

Bulk actions ask first, counted: the first post shows "Cancel 3 customers?" with the choice kept
in the form; only the confirming post calls the service (campaigns.services.operations, dnc_add).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.models import AuditEvent, Customer
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view
from campaigns.views.campaign_detail import campaign_or_404

# action -> (question, what was done)
BULK = {
    "cancel": ("Cancel {n} customer{s}? Those still waiting are never called.", "Cancelled {done} of {n}."),
    "retry": ("Call {n} customer{s} again as soon as the rules allow?", "{done} of {n} are due now."),
    "dnc": (
        "Add the numbers of {n} customer{s} to the do-not-call list? No campaign calls them again.",
        "{done} number{done_s} added to the do-not-call list.",
    ),
}


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
    campaign = campaign_or_404(request, pk)
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("customer") if selectors.as_uuid(i)][:1000]
    if action not in BULK or not ids:
        messages.error(request, "Choose at least one customer and an action.")
        return redirect("campaigns:customers", pk=campaign.pk)
    chosen = Customer.objects.filter(campaign=campaign, pk__in=ids)
    n = chosen.count()
    question, done_text = BULK[action]
    if request.POST.get("confirmed") != "yes":
        context = {
            "campaign": campaign,
            "action": action,
            "ids": [str(c) for c in chosen.values_list("pk", flat=True)],
            "question": question.format(n=n, s="" if n == 1 else "s"),
        }
        return render(request, "campaigns/customers_confirm.html", context)
    try:
        if action == "cancel":
            done = services.customers_cancel(campaign=campaign, by=request.user, customer_ids=ids)
        elif action == "retry":
            done = services.customers_retry_now(campaign=campaign, by=request.user, customer_ids=ids)
        else:
            numbers = [
                (number, f"from {campaign.name}")
                for number in chosen.exclude(number="").values_list("number", flat=True)
            ]
            done = services.dnc_add(organization=request.organization, by=request.user, numbers=numbers)
    except services.InvalidTransition as exc:
        messages.error(request, f"Could not do that: the campaign is {exc.current}.")
    except services.ValidationFailed as exc:
        messages.error(request, "; ".join(str(e) for e in exc.errors))
    else:
        messages.success(request, done_text.format(done=done, n=n, done_s="" if done == 1 else "s"))
    return redirect("campaigns:customers", pk=campaign.pk)
