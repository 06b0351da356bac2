"""The campaign's dialing settings page: calling hours, time zone, concurrency, pacing and priority,
changed while it is scheduled, running or paused (applied from the dispatcher's next pass,
audited), errors next to their fields."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from campaigns import services
from campaigns.forms.dialing import DialingSettingsForm
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view
from campaigns.views.campaign_detail import campaign_or_404

TEMPLATE = "campaigns/dialing_settings.html"


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_dialing_settings(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    if campaign.has_ended:
        messages.error(
            request, f"Dialing settings change until the campaign ends; this one is {campaign.status}."
        )
        return redirect("campaigns:detail", pk=campaign.pk)
    form = DialingSettingsForm(request.POST if request.method == "POST" else None, campaign=campaign)
    context = {"campaign": campaign, "form": form, "leftovers": []}
    if request.method == "GET":
        return render(request, TEMPLATE, context)
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=422)
    strategy = form.strategy()
    if not strategy:
        messages.info(request, "Nothing changed.")
        return redirect("campaigns:detail", pk=campaign.pk)
    changes = services.CampaignChanges(fields={"strategy"}, strategy=strategy)
    try:
        services.campaign_update(campaign=campaign, by=request.user, changes=changes)
    except services.ValidationFailed as exc:
        for error in exc.errors:
            name = form.field_for(error.field)
            if name:
                form.add_error(name, error.message)
            else:
                context["leftovers"].append(error.message)
        return render(request, TEMPLATE, context, status=422)
    messages.success(
        request, "Saved: the dialer follows the new settings from its next pass (within a second)."
    )
    return redirect("campaigns:detail", pk=campaign.pk)
