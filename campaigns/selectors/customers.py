"""Reads of a campaign's customers: the filtered list, and keyset pages of it.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from campaigns import phone
from campaigns.models import Campaign, Customer
from campaigns.selectors.common import Page, as_uuid
from campaigns.selectors.sorting import Sort, SortField, choose, read_datetime, read_int, sorted_page

# Customer.position is a BigIntegerField (signed 64-bit); positions start at 0.
POSITION_MAX = 2**63 - 1


def _position_key(text: str) -> int:
    value = read_int(text)
    if not 0 <= value <= POSITION_MAX:
        raise ValueError("a position outside the column's range")
    return value


# Sortable columns of the customers list, each with its index (models.Customer): position
# (customer_campaign_position), name, attempts and next attempt (customer_campaign_<column>).
CUSTOMER_SORTS = {
    "position": SortField("position", F("position"), _position_key, unique=True),
    "name": SortField("name", F("name"), str),
    "attempts": SortField("attempts", F("attempts"), read_int, descending_first=True),
    "next": SortField("next", F("next_attempt_at"), read_datetime),
}
CUSTOMER_SORT_DEFAULT = "position"


def customer_sort(param: str) -> Sort:
    """The customers list's sort from a URL's ?sort= (anything not whitelisted: submission order)."""
    return choose(CUSTOMER_SORTS, param, CUSTOMER_SORT_DEFAULT)


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
    sort: Sort | None = None,
    after: str = "",
    before: str = "",
    at: str = "",
    size: int = 25,
) -> Page:
    """`size` of campaign_customers(campaign, state, reason, objective, q) in `sort`'s order
    (submission order by default), keyset-paged through the sorted column's index
    (selectors.sorting): `after=key` is the page following that key, `before=key` the one
    preceding it. One query, no COUNT. A key that does not parse (a link edited by hand) reads as
    the first page. Customers come without assistant_overrides."""
    rows = campaign_customers(campaign, state=state, reason=reason, objective=objective, q=q).defer(
        "assistant_overrides"
    )
    return sorted_page(
        rows, sort or customer_sort(CUSTOMER_SORT_DEFAULT), after=after, before=before, at=at, size=size
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
