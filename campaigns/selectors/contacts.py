"""A campaign's customers as Vapi v2's contacts: each with its `contact.*` status and the outcome
of its latest call.

The caller has already found the campaign within its organization. The counts come from the
campaign's stored counters (rules.contacts: one column per bucket), never from counting rows;
a page of contacts and their latest calls is one query. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from campaigns.models import Call, Campaign, Customer, CustomerState
from campaigns.rules import contacts
from campaigns.rules.reasons import Reason


@dataclass(frozen=True)
class Contact:
    """One contact: the customer as submitted, where it stands, and its latest call, if any."""

    id: Any
    number: str
    name: str
    status: str  # a contacts.STATUSES value
    call_id: Any = None
    dispatched_at: datetime | None = None  # when its latest call was made (dispatched)
    ended_reason: str = ""  # that call's endedReason, once it ended


def _bucket_q(column: str) -> Q:
    """The customers counted in `column`: by state, and for the states whose bucket depends on
    the reason (a skip by a failed pre-dial check), by reason too."""
    parts = []
    for state in CustomerState.values:
        by_predial = contacts.bucket(state, Reason.PREDIAL_FAILED) == column
        otherwise = contacts.bucket(state, "") == column
        if by_predial and otherwise:
            parts.append(Q(state=state))
        elif by_predial:
            parts.append(Q(state=state, reason=Reason.PREDIAL_FAILED))
        elif otherwise:
            parts.append(Q(state=state) & ~Q(reason=Reason.PREDIAL_FAILED))
    return reduce(or_, parts, Q(pk__in=[]))


def _status_q(status: str) -> Q:
    return reduce(or_, map(_bucket_q, contacts.buckets_of_status(status)), Q(pk__in=[]))


def contacts_total(campaign: Campaign, statuses: list[str] | tuple[str, ...] = ()) -> int:
    """How many of the campaign's customers have one of `statuses` (every status when empty), from
    its counters as the row read holds them."""
    wanted = dict.fromkeys(statuses or contacts.STATUSES)
    return sum(
        getattr(campaign, column) for status in wanted for column in contacts.buckets_of_status(status)
    )


def campaign_contacts(
    campaign: Campaign, *, statuses: list[str] | tuple[str, ...] = (), sort_by: str = "position"
) -> QuerySet:
    """The campaign's customers with one of `statuses` (any when empty), as rows of what a contact
    shows, each with its latest call's id, creation and endedReason (correlated reads through the
    (customer, attempt) index: one query for a page). In upload order (`position`, which is dial
    order), or by status in contacts.STATUSES' order, then position; `contact_of` reads a row."""
    latest = Call.objects.filter(customer=OuterRef("pk"), direction="outbound").order_by("-attempt")
    rows = Customer.objects.filter(campaign=campaign)
    if statuses:
        rows = rows.filter(reduce(or_, map(_status_q, statuses)))
    rows = rows.annotate(
        call_id=Subquery(latest.values("id")[:1]),
        dispatched_at=Subquery(latest.values("created_at")[:1]),
        call_ended_reason=Subquery(latest.values("ended_reason")[:1]),
    )
    order: list[Any] = ["position"]
    if sort_by == "status":
        rank = Case(
            *(When(_status_q(status), then=Value(i)) for i, status in enumerate(contacts.STATUSES)),
            output_field=IntegerField(),
        )
        order.insert(0, rank)
    return rows.order_by(*order).values(
        "id",
        "number",
        "number_submitted",
        "sip_uri",
        "name",
        "state",
        "reason",
        "call_id",
        "dispatched_at",
        "call_ended_reason",
    )


def contact_of(row: dict[str, Any]) -> Contact:
    """A row of `campaign_contacts` as a Contact. Its number is as submitted (a SIP-only
    customer's is its SIP URI: Vapi's contacts always have a number)."""
    return Contact(
        id=row["id"],
        number=row["number_submitted"] or row["number"] or row["sip_uri"],
        name=row["name"],
        status=contacts.contact_status(row["state"], row["reason"]),
        call_id=row["call_id"],
        dispatched_at=row["dispatched_at"],
        ended_reason=row["call_ended_reason"] or "",
    )
