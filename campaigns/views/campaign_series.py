"""Re-runs and recurring campaigns in the dashboard.

- `campaign_rerun`: choose whom to call again (each group with its count), review the count,
  confirm; the new campaign's page follows.
- `campaign_recurrence`: the campaign's series (its runs and their counters, the next run, a stop
  button) or, for a campaign of none, the form that makes it recur.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import selectors, services
from campaigns.forms.errors import attach
from campaigns.forms.series import RecurrenceForm, RerunForm
from campaigns.models import CampaignStatus
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view
from campaigns.views.campaign_detail import campaign_or_404

RERUN_FROM = (CampaignStatus.ENDED, CampaignStatus.CANCELLED)


@require_http_methods(["GET", "POST"])
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_rerun(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """GET: the groups with their counts (and, once chosen, the count to confirm); POST: create."""
    campaign = campaign_or_404(request, pk)
    counts = selectors.rerun_counts(campaign)
    submitted = "who" in request.GET or "name" in request.GET  # the form was sent (maybe empty)
    data = request.POST if request.method == "POST" else (request.GET if submitted else None)
    form = RerunForm(data, counts=counts, initial={"name": f"{campaign.name} (re-run)"})
    context = {
        "campaign": campaign,
        "form": form,
        "counts": counts,
        "can_rerun": campaign.status in RERUN_FROM,
    }
    if data is None or not form.is_valid():
        return render(request, "campaigns/rerun.html", context, status=200 if data is None else 422)
    if request.method == "GET":  # chosen: the count to confirm
        return render(request, "campaigns/rerun.html", {**context, "confirm": form.chosen_total()})
    try:
        rerun = services.campaign_rerun(
            campaign=campaign, by=request.user, who=form.cleaned_data["who"], name=form.cleaned_data["name"]
        )
    except services.ValidationFailed as exc:
        context["leftovers"] = attach(form, exc.errors)
        return render(request, "campaigns/rerun.html", context, status=422)
    except services.InvalidTransition as exc:
        messages.error(request, f"Could not re-run this campaign: {exc}.")
        return redirect("campaigns:detail", pk=campaign.pk)
    messages.success(request, f"Created “{rerun.name}”, calling {rerun.customers_total} customers again.")
    return redirect("campaigns:detail", pk=rerun.pk)


def _series_page(request: HtmxHttpRequest, campaign, form: RecurrenceForm | None, status: int = 200, **extra):
    series = selectors.series_of(campaign)
    context = {
        "campaign": campaign,
        "series": series,
        "runs": selectors.series_runs(series) if series else [],
        "form": form,
        **extra,
    }
    return render(request, "campaigns/series.html", context, status=status)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_recurrence(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """The campaign's series, or (for writers) the form that makes it recur."""
    campaign = campaign_or_404(request, pk)
    return _series_page(request, campaign, RecurrenceForm(initial=_initial(campaign)))


def _initial(campaign) -> dict:
    return {"time_zone": campaign.time_zone, "frequency": "weekly"}


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_recurrence_create(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """Make the campaign recur; refused settings come back next to their fields (422)."""
    campaign = campaign_or_404(request, pk)
    form = RecurrenceForm(request.POST, initial=_initial(campaign))
    if not form.is_valid():
        return _series_page(request, campaign, form, status=422)
    try:
        services.series_create(campaign=campaign, by=request.user, **form.cleaned_data)
    except services.ValidationFailed as exc:
        return _series_page(request, campaign, form, status=422, leftovers=attach(form, exc.errors))
    except services.InvalidTransition as exc:
        messages.error(request, f"Could not make this campaign recur: {exc}.")
        return redirect("campaigns:recurrence", pk=campaign.pk)
    messages.success(request, "This campaign now recurs: each run is made when it is due.")
    return redirect("campaigns:recurrence", pk=campaign.pk)


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_recurrence_stop(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    series = selectors.series_of(campaign)
    if series is None:
        messages.error(request, "This campaign is not part of a recurring series.")
    else:
        try:
            services.series_stop(series=series, by=request.user)
            messages.success(request, "Stopped: no further run will be made. Runs made already are kept.")
        except services.InvalidTransition as exc:
            messages.error(request, f"Could not stop the series: it is {exc.current}.")
    return redirect("campaigns:recurrence", pk=campaign.pk)
