"""One campaign: live status and counters, why it is not dialing, charts, customers, calls, controls.

The detail page is made of fragments, each with its own URL that answers the
fragment to htmx and the whole page otherwise:
- status + controls (`_campaign_status`): re-rendered by start/pause/resume/end,
  and fetched again when the counters notice the status changed;
- counters + progress (`_campaign_counters`): polled every 2 s while the
  campaign is watched; stored columns only, no COUNT;
- why-not-dialing (`_campaign_waiting`) and charts (`_campaign_charts`): polled
  slowly, bounded and cached (selectors.dashboard);
- customers and calls: keyset pages;
- events sent to the campaign's own server (`_campaign_events`), when it has one: polled while
  the campaign runs or events wait; an event's delivery attempts load on demand into a slot
  outside the polled section, so a refresh never closes them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from campaigns import clock, selectors, services
from campaigns.export import customers_csv_response
from campaigns.forms.calls import CallFilterForm
from campaigns.models import CallStatus, Campaign, CampaignStatus, CustomerState, EventState
from campaigns.permissions import Action
from campaigns.rules.reasons import Reason
from campaigns.selectors.events import (
    campaign_event_counts,
    campaign_event_for,
    campaign_events_page,
    event_attempts,
)
from campaigns.selectors.sorting import read_int
from campaigns.views.audiences import audiences_context
from campaigns.views.base import HtmxHttpRequest, dashboard_view, page_or_fragment, wants_fragment

# Events for the page's panels (HX-Trigger): the status panel refetches on the first, every other
# panel (why-not-dialing, charts, customers, calls) on the second.
STATUS_CHANGED = "campaign-status-changed"
CHANGED = "campaign-changed"
REASONS = [r.value for r in Reason]
RERUNNABLE = (CampaignStatus.ENDED, CampaignStatus.CANCELLED)


def campaign_or_404(request: HtmxHttpRequest, pk: object, *, live: bool = False) -> Campaign:
    """The organization's campaign, with its caller ID and author for the page; a `live` fragment
    (polled every 2 s: counters, status, wallboard) shows neither and reads the campaign row alone."""
    related = not (live and wants_fragment(request))
    campaign = selectors.campaign_for(request.organization, pk, with_related=related)
    if campaign is None:
        raise Http404("No such campaign in this organization")
    return campaign


def _customer_filters(request: HtmxHttpRequest) -> dict[str, str]:
    state = request.GET.get("state", "")
    reason = request.GET.get("reason", "")
    objective = request.GET.get("objective", "")
    return {
        "state": state if state in CustomerState.values else "",
        "reason": reason if reason in REASONS else "",
        "q": request.GET.get("q", "").strip()[:100],
        "objective": objective if objective in selectors.OBJECTIVE_FILTERS else "",
    }


def _customers(request: HtmxHttpRequest, campaign: Campaign) -> dict[str, Any]:
    filters = _customer_filters(request)
    sort = selectors.customer_sort(request.GET.get("sort", ""))
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    page = selectors.customers_page(
        campaign, **filters, sort=sort, after=after, before=before, at=request.GET.get("at", "")
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    sorted_query = "&".join(filter(None, [query, f"sort={sort.param}" if request.GET.get("sort") else ""]))
    return {
        "customers": page,
        "customer_filters": filters,
        "customer_query": sorted_query,
        "customer_unsorted_query": query,
        "customer_sort": sort,
        "customer_columns": _columns(sort, CUSTOMER_COLUMNS),
        "customer_sort_choices": CUSTOMER_SORT_CHOICES,
        "objective_filters": OBJECTIVE_CHOICES,
    }


# The customers' sorts in words, for the Sort by filter (narrow screens hide the headers).
CUSTOMER_SORT_CHOICES = [
    ("position", "Submission order"),
    ("-position", "Last submitted first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-attempts", "Most attempts first"),
    ("attempts", "Fewest attempts first"),
    ("next", "Next attempt, soonest first"),
    ("-next", "Next attempt, latest first"),
]
# Sortable headers: (sort name, label). The others are plain headers.
CUSTOMER_COLUMNS = {"position": "#", "name": "Name", "attempts": "Attempts", "next": "Next attempt"}
CALL_COLUMNS = {"started": "Started", "duration": "Duration", "cost": "Cost"}


def _columns(sort: selectors.Sort, columns: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each sortable header: its label, its aria-sort, and the sort a click on it asks for (the
    other direction when it is the current sort, else the column's first direction)."""
    shown = {}
    for name, label in columns.items():
        current = sort.field.name == name
        field = (selectors.CUSTOMER_SORTS | selectors.CALL_SORTS)[name]
        descending = not sort.descending if current else field.descending_first
        shown[name] = {
            "label": label,
            "aria": ("descending" if sort.descending else "ascending") if current else "none",
            "next": f"{'-' if descending else ''}{name}",
        }
    return shown


# The customers' objective filter, in words (selectors.OBJECTIVE_FILTERS).
OBJECTIVE_CHOICES = [("met", "Objective met"), ("not-met", "Objective not met"), ("unknown", "No result")]


def _outcomes(campaign: Campaign) -> dict[str, Any]:
    """The outcome summary: shown once the campaign has an analysis schema or results."""
    if campaign.analysis_schema is None and not campaign.customers_analysed:
        return {"outcome_summary": None}
    return {
        "outcome_summary": selectors.campaign_outcome_summary(campaign),
        "opt_outs": selectors.opt_outs_of_campaign(campaign),
    }


def _calls(request: HtmxHttpRequest, campaign: Campaign, *, live: bool = False) -> dict[str, Any]:
    """A page of the calls log, filtered (CallFilterForm: a wrong value is shown beside its field
    and the others still apply) and sorted by a whitelisted column; `live` (the campaign's own
    page) keeps its first page refreshing."""
    form = CallFilterForm(request.GET, campaign=campaign)
    form.is_valid()
    sort = selectors.call_sort("" if "call_sort" in form.errors else request.GET.get("call_sort", ""))
    page = selectors.calls_page(
        campaign,
        sort=sort,
        after=request.GET.get("older", ""),
        before=request.GET.get("newer", ""),
        **form.filters(),
    )
    given = {
        name: request.GET[name] for name in form.fields if request.GET.get(name) and name not in form.errors
    }
    query = urlencode({k: v for k, v in given.items() if k != "call_sort"})
    return {
        "calls": page,
        "call_form": form,
        "call_status": form.filters()["status"] or "",
        "call_query": "&".join(
            filter(None, [query, f"call_sort={sort.param}" if request.GET.get("call_sort") else ""])
        ),
        "call_unsorted_query": query,
        "call_columns": _columns(sort, CALL_COLUMNS),
        "live_calls": live or request.GET.get("live") == "1",
    }


def _events(request: HtmxHttpRequest, campaign: Campaign, *, filtered: bool = True) -> dict[str, Any]:
    """A page of the campaign's events, newest first, and how many wait or were given up.
    `filtered`: by this request's state and page keys (the events' own URL; the detail page's
    parameters are the customers')."""
    query = request.GET if filtered else {}
    state = query.get("state", "") if query.get("state", "") in EventState.values else ""
    page = campaign_events_page(
        campaign, state=state, older_than=query.get("older", ""), newer_than=query.get("newer", "")
    )
    counts = campaign_event_counts(campaign)
    return {
        "events": page,
        "event_state": state,
        "event_query": f"state={state}" if state else "",
        "event_counts": counts,
        "event_states": EventState.choices,
        # Events are still sent (and retried) after the campaign has ended.
        "events_live": selectors.is_watched(campaign) or counts.pending > 0,
    }


def _live(request: HtmxHttpRequest, campaign: Campaign, **extra: Any) -> dict[str, Any]:
    """What the live fragments (status, counters, progress) show: stored columns only, no query."""
    return {
        "campaign": campaign,
        "version": selectors.live_version(campaign),
        "poll": selectors.is_watched(campaign),
        "tallies": selectors.campaign_tallies(campaign),
        "outcomes": selectors.outcome_breakdown(campaign),
        **extra,
    }


def _waiting(campaign: Campaign) -> dict[str, Any]:
    """What the dialer does at this moment, and who waits for what. Before Start every customer
    just waits for it, and after the end nobody waits."""
    now = clock.now()
    running = campaign.status in (CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED)
    groups = selectors.customers_waiting_by_reason(campaign, now) if running else []
    return {"waiting": groups, "doing": selectors.campaign_activity(campaign, now)}


def _wallboard(campaign: Campaign) -> dict[str, Any]:
    return {
        "rates": selectors.campaign_rates(campaign),
        "forecast": selectors.campaign_forecast(campaign, clock.now()),
        "trend": selectors.campaign_trend(campaign, clock.now()),
        "calls_under_way": selectors.campaign_live_calls(campaign),
    }


def _charts(campaign: Campaign) -> dict[str, Any]:
    return {
        "outcomes": selectors.outcome_breakdown(campaign),
        "per_minute": selectors.calls_per_minute(campaign),
    }


def _detail_page(request: HtmxHttpRequest, campaign: Campaign, **extra: Any) -> HttpResponse:
    has_server = bool((campaign.server or {}).get("url"))
    context = {
        **(_events(request, campaign, filtered=False) if has_server else {}),
        "has_server": has_server,
        **_live(request, campaign, **extra),
        **_waiting(campaign),
        **_wallboard(campaign),
        **_charts(campaign),
        **_outcomes(campaign),
        **_customers(request, campaign),
        **_calls(request, campaign, live=True),
        **audiences_context(request, campaign),
        "dial_plan": list(campaign.dial_plan.select_related("phone_number"))
        if campaign.uses_dial_plan
        else [],
        "customer_states": CustomerState.choices,
        "reasons": REASONS,
        "call_statuses": CallStatus.choices,
        "editable": campaign.is_editable,
        "provider_costs": selectors.campaign_costs_by_provider(campaign),
        "comparison": selectors.campaign_comparison(campaign),
        "pool_numbers": selectors.pool_numbers(campaign) if campaign.caller_id_mode else [],
        "costs": selectors.campaign_costs(campaign),
        # Re-runs and series (views.campaign_series): counts once the campaign can be re-run.
        "series": selectors.series_of(campaign),
        "rerun_counts": selectors.rerun_counts(campaign) if campaign.status in RERUNNABLE else None,
        # Callbacks from callees: counted apart, never in the counters above.
        "inbound_calls": selectors.inbound_calls_count(campaign.pk),
        # Before a start or a resume: who the settings let it call (grouped counts, bounded).
        "preflight": selectors.campaign_preflight(campaign, clock.now()) if campaign.is_editable else None,
    }
    return render(request, "campaigns/detail.html", context)


def _fragment(request: HtmxHttpRequest, campaign: Campaign, fragment: str, context: dict) -> HttpResponse:
    if not wants_fragment(request):
        return _detail_page(request, campaign)
    return page_or_fragment(request, "campaigns/detail.html", fragment, context)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_detail(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    return _detail_page(request, campaign_or_404(request, pk))


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_counters(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """Counters and progress; tells the page (HX-Trigger) when the status it shows has changed."""
    campaign = campaign_or_404(request, pk, live=True)
    if wants_fragment(request) and request.GET.get("v") == selectors.live_version(campaign):
        return HttpResponse(status=204)  # nothing changed: no swap, and nothing for screen readers to repeat
    response = _fragment(
        request, campaign, "campaigns/partials/_campaign_counters.html", _live(request, campaign)
    )
    shown = request.GET.get("status")
    if wants_fragment(request) and shown and shown != campaign.status:
        response["HX-Trigger"] = f"{STATUS_CHANGED}, {CHANGED}"
    elif wants_fragment(request) and not selectors.is_watched(campaign):
        # The last poll (the last call has ended): every other panel refreshes once more, so none
        # is left showing a call or a customer as it was before the final outcomes.
        response["HX-Trigger"] = CHANGED
    return response


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_announce(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """The one sentence screen readers hear when the status changes (the counters are not
    announced: they change every few seconds)."""
    campaign = campaign_or_404(request, pk, live=True)
    return render(request, "campaigns/partials/_announce.html", _live(request, campaign))


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_status(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk, live=True)
    return _fragment(request, campaign, "campaigns/partials/_campaign_status.html", _live(request, campaign))


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_waiting(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk, live=True)
    context = {**_live(request, campaign), **_waiting(campaign)}
    return _fragment(request, campaign, "campaigns/partials/_campaign_waiting.html", context)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_wallboard(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk, live=True)
    context = {**_live(request, campaign), **_wallboard(campaign)}
    return _fragment(request, campaign, "campaigns/partials/_campaign_wallboard.html", context)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_charts(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    context = {**_live(request, campaign), **_charts(campaign)}
    return _fragment(request, campaign, "campaigns/partials/_campaign_charts.html", context)


TRANSITIONS = {
    "start": (services.campaign_start, "Started: the dialer picks it up within a second or two."),
    "pause": (services.campaign_pause, "Paused: calls in progress finish, no new calls start."),
    "resume": (services.campaign_resume, "Resumed."),
    "end": (services.campaign_end, "Ended: customers not yet called were cancelled."),
    "archive": (
        services.campaign_archive,
        "Archived: its calls and customers are kept; unarchive to show it again.",
    ),
    "unarchive": (services.campaign_unarchive, "Unarchived."),
}


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_transition(request: HtmxHttpRequest, pk: object, action: str) -> HttpResponse:
    """Start, pause, resume or end. A refused transition says why and shows the current state."""
    campaign = campaign_or_404(request, pk)
    service, done = TRANSITIONS[action]
    status, notice, level = 200, done, "success"
    try:
        campaign = service(campaign=campaign, by=request.user)
    except services.InvalidTransition as exc:
        status, level = 409, "error"
        notice = f"Could not {exc.action} this campaign: it is {exc.current}."
        campaign = campaign_or_404(request, pk)
    if not wants_fragment(request):
        getattr(messages, level)(request, notice)
        return redirect("campaigns:detail", pk=campaign.pk)
    context = _live(request, campaign, notice=notice, notice_level=level, oob=True)
    response = render(request, "campaigns/partials/_campaign_status.html", context, status=status)
    response["HX-Trigger"] = CHANGED
    return response


@require_POST
@dashboard_view(Action.CAMPAIGNS_WRITE)
def campaign_delete(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    services.campaign_delete(campaign=campaign, by=request.user)
    messages.success(request, f"Deleted “{campaign.name}”. Its call records are kept.")
    if wants_fragment(request):
        return HttpResponseClientRedirect(reverse("campaigns:list"))
    return redirect("campaigns:list")


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_customers(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    # Rows with checkboxes for the bulk form: the customers page, and its own refreshes and pages.
    selectable = request.can["campaigns"]["write"] and not campaign.has_ended
    selectable = selectable and (not wants_fragment(request) or request.GET.get("selectable") == "1")
    customers = _customers(request, campaign)
    if selectable:
        customers["customer_query"] = "&".join(filter(None, [customers["customer_query"], "selectable=1"]))
    context = {
        **_live(request, campaign),
        **customers,
        "customer_states": CustomerState.choices,
        "reasons": REASONS,
        "selectable": selectable,
        "move_targets": selectors.campaigns_to_move_into(campaign, labels=True)
        if selectable and not wants_fragment(request)
        else [],
    }
    return page_or_fragment(
        request, "campaigns/customers.html", "campaigns/partials/_customer_rows.html", context
    )


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_calls(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    calls = _calls(request, campaign)
    context = {**_live(request, campaign), **calls, "call_statuses": CallStatus.choices}
    refused = 422 if calls["call_form"].errors else 200
    # The filter form (#call-filters) takes its fields and the rows from the list (so errors show
    # beside their fields); the pager, the sortable headers and the live refresh take the rows alone.
    fragment = "campaigns/partials/_calls_list.html"
    if (
        request.headers.get("HX-Target") == "call-rows"
        and request.headers.get("HX-Trigger") != "call-filters"
    ):
        fragment = "campaigns/partials/_call_rows.html"
    return page_or_fragment(request, "campaigns/calls.html", fragment, context, status=refused)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_call(request: HtmxHttpRequest, pk: object, call_pk: object) -> HttpResponse:
    """One call and what we asked its provider and what it answered (CallLog)."""
    campaign = campaign_or_404(request, pk)
    call = selectors.call_for(campaign, call_pk)
    if call is None:
        raise Http404("No such call in this campaign")
    lines = selectors.call_transcript(call)
    context = {
        **_live(request, campaign),
        "call": call,
        "log": list(call.log.all()),
        "lines": lines,
        "last_line": max((line.pk for line in lines), default=0),
    }
    return page_or_fragment(request, "campaigns/call.html", "campaigns/partials/_call_log.html", context)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_call_transcript(request: HtmxHttpRequest, pk: object, call_pk: object) -> HttpResponse:
    """The call page's poll: the transcript lines kept since line `after` (appended to the page's
    list, out of band) and the next poll, which stops once the call has ended."""
    campaign = campaign_or_404(request, pk)
    call = selectors.call_for(campaign, call_pk)
    if call is None:
        raise Http404("No such call in this campaign")
    try:
        after = max(0, read_int(request.GET.get("after", "")))
    except ValueError:  # a link edited by hand: from the first line
        after = 0
    lines = selectors.call_transcript(call, after=after)
    context = {
        "campaign": campaign,
        "call": call,
        "lines": lines,
        "last_line": max((line.pk for line in lines), default=after),
        "appending": True,
    }
    return render(request, "campaigns/partials/_transcript_poll.html", context)


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_export(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    response = customers_csv_response(campaign)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_events(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """The events sent to the campaign's own server: state, attempts and last error of each."""
    campaign = campaign_or_404(request, pk)
    context = {**_live(request, campaign), **_events(request, campaign)}
    return page_or_fragment(
        request, "campaigns/events.html", "campaigns/partials/_campaign_events.html", context
    )


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def campaign_event(request: HtmxHttpRequest, pk: object, event_pk: object) -> HttpResponse:
    """One event and every attempt to deliver it: where, when, the status or error, the answer."""
    campaign = campaign_or_404(request, pk)
    event = campaign_event_for(campaign, event_pk)
    if event is None:
        raise Http404("No such event in this campaign")
    context = {
        **_live(request, campaign),
        "event": event,
        "event_data": json.dumps(event.data, indent=2, ensure_ascii=False),
        "attempts": event_attempts(event),
    }
    return page_or_fragment(
        request, "campaigns/event.html", "campaigns/partials/_event_attempts.html", context
    )
