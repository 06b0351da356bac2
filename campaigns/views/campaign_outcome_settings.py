"""The campaign's outcome settings page (objective, analysis schema, rules, opt-out, callbacks,
voicemail, automatic pause, callbacks from callees): editable until the campaign ends, errors
next to their fields."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from campaigns import services
from campaigns.forms.outcomes import OutcomeSettingsForm
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view
from campaigns.views.campaign_detail import campaign_or_404


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_outcome_settings(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    initial = OutcomeSettingsForm.initial_for(campaign)
    if campaign.has_ended:
        messages.error(
            request, f"Outcome settings change until the campaign ends; this one is {campaign.status}."
        )
        return redirect("campaigns:detail", pk=campaign.pk)
    form = OutcomeSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    context = {"campaign": campaign, "form": form, "leftovers": []}
    if request.method == "GET":
        return render(request, "campaigns/outcome_settings.html", context)
    if not form.is_valid():
        return render(request, "campaigns/outcome_settings.html", context, status=422)
    changes = services.CampaignChanges(fields={"outcomes"}, outcomes=form.values())
    try:
        services.campaign_update(campaign=campaign, by=request.user, changes=changes)
    except services.ValidationFailed as exc:
        context["leftovers"] = form.attach_outcome_errors(exc.errors)
        return render(request, "campaigns/outcome_settings.html", context, status=422)
    messages.success(request, "Saved the outcome settings.")
    return redirect("campaigns:detail", pk=campaign.pk)
