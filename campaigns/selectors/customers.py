"""Reads of a campaign's customers: the filtered list, and keyset pages of it.

The caller has already found the campaign within its organization (campaigns.campaign_for).
Nothing here writes.
"""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import Campaign, Customer
from campaigns.selectors.common import Page

# Customer.position is a BigIntegerField (signed 64-bit); positions start at 0.
POSITION_MAX = 2**63 - 1


# The objective filter: what each value keeps.
OBJECTIVE_FILTERS = ("met", "not-met", "unknown")


def campaign_customers(
    campaign: Campaign, *, state: str | None = None, reason: str | None = None, objective: str | None = None
) -> QuerySet[Customer]:
    """A campaign's customers in submission order, optionally by dialing state, reason and what
    their latest structured result said of the objective (met, not-met, unknown: none said)
    ("" or None: any)."""
    customers = Customer.objects.filter(campaign=campaign)
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
    rows = campaign_customers(campaign, state=state, reason=reason, objective=objective).defer(
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


def _position(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= POSITION_MAX else None
