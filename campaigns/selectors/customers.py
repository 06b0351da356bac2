"""Reads of a campaign's customers: the filtered list, and keyset pages of it.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from campaigns import phone
from campaigns.models import Campaign, Customer
from campaigns.selectors.common import Page, as_uuid

# Customer.position is a BigIntegerField (signed 64-bit); positions start at 0.
POSITION_MAX = 2**63 - 1


def customer_search(campaign: Campaign, text: str) -> Q:
    """What a search box finds: the number (in any spelling phone.to_e164 reads, through the
    (campaign, number) unique index), the external id exactly, or a part of the name."""
    text = text.strip()[:100]
    found = Q(external_id=text) | Q(name__icontains=text)
    try:
        number = phone.to_e164(text, region=campaign.organization.default_region or None)
    except phone.InvalidNumber:
        return found
    return found | Q(number=number)


# The objective filter: what each value keeps.
OBJECTIVE_FILTERS = ("met", "not-met", "unknown")


def campaign_customers(
    campaign: Campaign,
    *,
    state: str | None = None,
    reason: str | None = None,
    objective: str | None = None,
    q: str = "",
) -> QuerySet[Customer]:
    """A campaign's customers in submission order, optionally by dialing state, reason, what
    their latest structured result said of the objective (met, not-met, unknown: none said) and
    a search (customer_search) ("" or None: any)."""
    customers = Customer.objects.filter(campaign=campaign)
    if q.strip():
        customers = customers.filter(customer_search(campaign, q))
    if objective:
        if objective not in OBJECTIVE_FILTERS:
            raise ValueError(f"objective must be one of {OBJECTIVE_FILTERS}")
        met = {"met": True, "not-met": False}.get(objective)
        customers = (
            customers.filter(objective_met=met)
            if met is not None
            else customers.filter(objective_met__isnull=True)
        )
    if state:
        customers = customers.filter(state=state)
    if reason:
        customers = customers.filter(reason=reason)
    return customers.order_by("position")


def customers_page(
    campaign: Campaign,
    *,
    state: str = "",
    reason: str = "",
    q: str = "",
    objective: str = "",
    after: int | None = None,
    before: int | None = None,
    size: int = 25,
) -> Page:
    """`size` of campaign_customers(campaign, state, reason), by the (campaign, position) index.

    `after=p` is the page following position p, `before=p` the one preceding it; the keys of
    the returned page are positions. One query, no COUNT: the page knows whether a neighbour
    exists by reading one row more. A position outside the column's range (a link edited by
    hand) reads as no position: the first page. Customers come without assistant_overrides.
    """
    after, before = _position(after), _position(before)
    rows = campaign_customers(campaign, state=state, reason=reason, objective=objective, q=q).defer(
        "assistant_overrides"
    )
    if before is not None:
        found = list(rows.filter(position__lt=before).order_by("-position")[: size + 1])
        more = len(found) > size
        found = list(reversed(found[:size]))
        return Page(
            found,
            newer=str(found[0].position) if more and found else None,
            older=str(found[-1].position) if found else None,
        )
    if after is not None:
        rows = rows.filter(position__gt=after)
    found = list(rows.order_by("position")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=str(found[0].position) if after is not None and found else None,
        older=str(found[-1].position) if more else None,
    )


def customer_for(campaign: Campaign, pk: object) -> Customer | None:
    """One customer of the campaign; None for a missing or malformed id."""
    pk = as_uuid(pk)
    return Customer.objects.filter(campaign=campaign, pk=pk).first() if pk else None


def customer_calls(customer: Customer, *, direction: str = "outbound") -> list:
    """Every attempt to reach the customer (`direction` outbound), or every call the customer
    made to the campaign's caller ID (inbound), newest first, at most 100."""
    calls = customer.calls.filter(direction=direction).select_related("phone_number")
    return list(calls.order_by("-created_at")[:100])


def _position(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= POSITION_MAX else None
