"""Reads of a campaign's calls: the filtered list, keyset pages of it, and one call.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes. Transcripts are never loaded with a list.
"""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import Call, Campaign
from campaigns.selectors.common import Page, as_uuid, newest_first


def campaign_calls(
    campaign: Campaign,
    *,
    status: str | None = None,
    ended_reason: str | None = None,
    include_log: bool = False,
    descending: bool = True,
) -> QuerySet[Call]:
    """A campaign's calls, newest first by default (ties by id), with the customer's number
    (one join), optionally by status and endedReason ("" or None: any) and with each call's
    log (one more query)."""
    calls = (
        Call.objects.filter(campaign=campaign)
        .select_related("customer")
        .defer("transcript", "customer__assistant_overrides")
    )
    if status:
        calls = calls.filter(status=status)
    if ended_reason:
        calls = calls.filter(ended_reason=ended_reason)
    if include_log:
        calls = calls.prefetch_related("log")
    return calls.order_by(*(("-created_at", "-id") if descending else ("created_at", "id")))


def calls_page(campaign: Campaign, *, status: str = "", older_than: str = "", newer_than: str = "") -> Page:
    """25 of campaign_calls(campaign, status), newest first, through the (campaign, -created_at)
    index; page keys as common.newest_first writes them. Each call comes with its customer and
    caller ID, without its summary and analysis."""
    calls = (
        campaign_calls(campaign, status=status).select_related("phone_number").defer("summary", "analysis")
    )
    return newest_first(calls, older_than=older_than, newer_than=newer_than)


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
