"""What Vapi's Campaign document lists: the customers as submitted, the `calls` map, the dial plan.

Vapi's Campaign requires `calls`, and a campaign holds at most 10,000 customers there. Ours may
hold more (bulk imports): their document lists the first DOCUMENT_LIMIT customers (in the order
of GET /campaign/{id}/customers) and the DOCUMENT_LIMIT most recent calls (in the order of GET
/campaign/{id}/calls, newest first), and says it did (`Document.customers_truncated`,
`calls_truncated`), so a client knows where the rest is. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from dataclasses import dataclass
from typing import Any

from campaigns.models import Call, Campaign, Customer, DialPlanEntry
from campaigns.selectors.campaigns import _ECHO_FIELDS, CallRow, _document_rows

DOCUMENT_LIMIT = 10_000
# A customer as the document echoes it: what Vapi's CreateCustomerDTO holds, squadOverrides included.
EchoRow = namedtuple("EchoRow", (*_ECHO_FIELDS, "squad_overrides"))


@dataclass
class Document:
    """One campaign's document lists. `customers` are in submission order, `calls` oldest first;
    `echoes` has every customer a call names (beyond the listed ones when truncated), by id."""

    customers: list[Any]
    calls: list[Any]
    dial_plan: list[DialPlanEntry]
    echoes: dict[Any, Any]
    customers_truncated: bool = False
    calls_truncated: bool = False


def campaign_documents(campaigns: list[Campaign]) -> list[Campaign]:
    """Attach `.document` (a Document) to each campaign; returns `campaigns`.

    Campaigns of up to DOCUMENT_LIMIT customers are read together, in three queries for any
    number of them (customers, calls, dial plan entries); each larger one in three queries of
    its own (its first customers, its latest calls, the customers of those calls not listed).
    """
    small = [c for c in campaigns if c.customers_total <= DOCUMENT_LIMIT]
    customers: dict[str, list[Any]] = defaultdict(list)
    calls: dict[str, list[Any]] = defaultdict(list)
    if small:
        ids = [c.pk for c in small]
        rows = Customer.objects.filter(campaign_id__in=ids).order_by("campaign_id", "position")
        for customer in _document_rows(rows, EchoRow):
            customers[str(customer.campaign_id)].append(customer)
        for call in _document_rows(
            Call.objects.filter(campaign_id__in=ids).order_by("created_at", "id"), CallRow
        ):
            calls[str(call.campaign_id)].append(call)
    plans = _dial_plans([c for c in campaigns if c.uses_dial_plan])
    for campaign in campaigns:
        if campaign.customers_total <= DOCUMENT_LIMIT:
            listed = customers[str(campaign.pk)]
            echoes = {c.id: c for c in listed}
            campaign.document = Document(listed, calls[str(campaign.pk)], plans[campaign.pk], echoes)
        else:
            campaign.document = _truncated(campaign, plans[campaign.pk])
    return campaigns


def _dial_plans(campaigns: list[Campaign]) -> dict[Any, list[DialPlanEntry]]:
    plans: dict[Any, list[DialPlanEntry]] = defaultdict(list)
    if campaigns:
        entries = DialPlanEntry.objects.filter(campaign_id__in=[c.pk for c in campaigns])
        for entry in entries.order_by("campaign_id", "position"):
            plans[entry.campaign_id].append(entry)
    return plans


def _truncated(campaign: Campaign, dial_plan: list[DialPlanEntry]) -> Document:
    """The document of a campaign beyond DOCUMENT_LIMIT customers: its first customers by position,
    its most recent calls (one more read to know whether there are others), through the
    (campaign, position) and (campaign, -created_at) indexes, and the customers of those calls
    that are not among the first."""
    first = Customer.objects.filter(campaign_id=campaign.pk).order_by("position")[:DOCUMENT_LIMIT]
    listed = list(_document_rows(first, EchoRow))
    latest = Call.objects.filter(campaign_id=campaign.pk).order_by("-created_at", "-id")[: DOCUMENT_LIMIT + 1]
    recent = list(_document_rows(latest, CallRow))
    calls_truncated = len(recent) > DOCUMENT_LIMIT
    recent = recent[:DOCUMENT_LIMIT][::-1]
    echoes = {c.id: c for c in listed}
    # The customers of those calls not listed, read with the same latest calls (a join, one index
    # probe each): naming them by id sent 10,000 ids to be parsed and planned, 200 ms at a million.
    if any(call.customer_id not in echoes for call in recent):
        for row in _document_rows(latest[:DOCUMENT_LIMIT], EchoRow, prefix="customer__"):
            echoes.setdefault(row.id, row)
    return Document(
        listed, recent, dial_plan, echoes, customers_truncated=True, calls_truncated=calls_truncated
    )
