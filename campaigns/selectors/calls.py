"""Reads of a campaign's calls: the filtered list, keyset pages of it, and one call.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes. Transcripts are never loaded with a list.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, QuerySet

from campaigns.models import Call, CallStatus, Campaign, TranscriptLine
from campaigns.models.call import COST_SORT, DURATION_SORT
from campaigns.rules.outcomes import OutcomeClass, reasons_of
from campaigns.selectors.common import Page, as_uuid
from campaigns.selectors.customers import campaign_customers
from campaigns.selectors.sorting import (
    Sort,
    SortField,
    choose,
    read_datetime,
    read_decimal,
    read_float,
    sorted_page,
)

# Sortable columns of the calls list. The nullable ones sort through a Coalesce to -1 (below any
# duration or cost), the very expression their index holds (models.call: call_campaign_duration,
# call_campaign_cost), so PostgreSQL reads a page from the index.
CALL_SORTS = {
    "started": SortField("started", F("created_at"), read_datetime, descending_first=True),
    "duration": SortField("duration", DURATION_SORT, read_float, descending_first=True),
    "cost": SortField("cost", COST_SORT, read_decimal, descending_first=True),
}
CALL_SORT_DEFAULT = "-started"
# The outcome filter: its classes, in the order a supervisor reads them.
OUTCOME_FILTERS = (
    OutcomeClass.ANSWERED,
    OutcomeClass.VOICEMAIL,
    OutcomeClass.NO_ANSWER,
    OutcomeClass.BUSY,
    OutcomeClass.OPT_OUT,
    OutcomeClass.CANCELLED,
    OutcomeClass.FAILED,
)


def call_sort(param: str) -> Sort:
    """The calls list's sort from a URL's ?sort= (anything not whitelisted: newest first)."""
    return choose(CALL_SORTS, param, CALL_SORT_DEFAULT)


def outcome_q(outcome: str) -> Q:
    """Ended calls whose endedReason rules.outcomes.classify puts in `outcome`, as a filter."""
    outcome = OutcomeClass(outcome)
    if outcome is OutcomeClass.FAILED:
        others = Q()
        for known in OUTCOME_FILTERS:
            if known is not OutcomeClass.FAILED:
                others |= outcome_q(known)
        return Q(status=CallStatus.ENDED) & ~others
    exact, prefixes = reasons_of(outcome)
    found = Q(ended_reason__in=sorted(exact))
    for prefix in prefixes:
        found |= Q(ended_reason__startswith=prefix)
    return Q(status=CallStatus.ENDED) & found


def campaign_calls(
    campaign: Campaign,
    *,
    status: str | None = None,
    ended_reason: str | None = None,
    outcome: str | None = None,
    objective: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    provider_account_id: object = None,
    phone_number_id: object = None,
    q: str | None = None,
    include_log: bool = False,
    descending: bool = True,
) -> QuerySet[Call]:
    """A campaign's calls, newest first by default (ties by id), with the customer's number
    (one join), optionally by status, endedReason, outcome class (OUTCOME_FILTERS), objective
    ("met", "not-met", "unknown"), creation time (since inclusive, until exclusive), provider
    account, caller ID and the customer's search (selectors.customers.customer_search: number in
    any spelling, external id, part of the name) ("" or None: any), and with each call's log
    (one more query).

    Raises ValueError for an outcome or objective it does not know."""
    calls = (
        Call.objects.filter(campaign=campaign)
        .select_related("customer")
        .defer("transcript", "customer__assistant_overrides")
    )
    if q and q.strip():
        calls = calls.filter(customer__in=campaign_customers(campaign, q=q).values("pk"))
    if status:
        calls = calls.filter(status=status)
    if ended_reason:
        calls = calls.filter(ended_reason=ended_reason)
    if outcome:
        calls = calls.filter(outcome_q(outcome))
    if objective:
        met = {"met": True, "not-met": False, "unknown": None}
        if objective not in met:
            raise ValueError(f"objective must be one of {tuple(met)}")
        calls = (
            calls.filter(objective_met__isnull=True)
            if met[objective] is None
            else calls.filter(objective_met=met[objective])
        )
    if since is not None:
        calls = calls.filter(created_at__gte=since)
    if until is not None:
        calls = calls.filter(created_at__lt=until)
    if provider_account_id:
        calls = calls.filter(provider_account_id=provider_account_id)
    if phone_number_id:
        calls = calls.filter(phone_number_id=phone_number_id)
    if include_log:
        calls = calls.prefetch_related("log")
    return calls.order_by(*(("-created_at", "-id") if descending else ("created_at", "id")))


def calls_page(
    campaign: Campaign,
    *,
    sort: Sort | None = None,
    after: str = "",
    before: str = "",
    size: int = 25,
    **filters: object,
) -> Page:
    """`size` of campaign_calls(campaign, **filters) in `sort`'s order (newest first by default),
    keyset-paged through the index of the sorted column (selectors.sorting). Each call comes with
    its customer, caller ID and provider account, without its summary and analysis."""
    calls = (
        campaign_calls(campaign, **filters)  # type: ignore[arg-type]
        .select_related("phone_number", "provider_account")
        .defer(
            "summary",
            "analysis",
            "structured_data",
            "provider_account__api_key",
            "provider_account__webhook_secret",
        )
    )
    return sorted_page(calls, sort or call_sort(CALL_SORT_DEFAULT), after=after, before=before, size=size)


def call_for(campaign: Campaign, pk: object) -> Call | None:
    """One call of the campaign with its customer, caller ID, provider account and log; None for a
    call of another campaign, a missing call or a malformed id."""
    pk = as_uuid(pk)
    if pk is None:
        return None
    return (
        Call.objects.select_related("customer", "phone_number", "provider_account")
        .prefetch_related("log")
        .filter(campaign=campaign, pk=pk)
        .first()
    )


# The most lines of a call's transcript a page shows (its latest).
TRANSCRIPT_LINES = 1000


def call_transcript(call: Call, *, after: int | None = None) -> list[TranscriptLine]:
    """The lines of the call's live transcript in the order they were said (the latest
    TRANSCRIPT_LINES); with `after`, only lines kept since the line of that id (what a page that
    has them all up to it has not shown yet)."""
    lines = TranscriptLine.objects.filter(call=call)
    if after is not None:
        lines = lines.filter(pk__gt=after)
    return sorted(lines.order_by("-at", "-id")[:TRANSCRIPT_LINES], key=lambda line: (line.at, line.id))
