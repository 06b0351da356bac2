"""Reads of campaigns: the organization's list, one campaign, the campaigns a pass reads again.

Lookups are scoped to an organization and never return a deleted campaign. Nothing here writes.
Lists return querysets (callers paginate); Vapi's campaign documents are read in documents.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignStatus, Organization
from campaigns.selectors.common import as_uuid

Row = TypeVar("Row")


@dataclass
class CampaignFilters:
    """Which campaigns a list shows: exact id and status, name search, time bounds, order."""

    id: str | None = None  # a malformed id matches nothing
    status: str | None = None  # "" or None: every status
    name_contains: str = ""  # case-insensitive; "" matches every name
    # {"created_at__gt": datetime, "updated_at__lte": datetime, ...}
    bounds: dict[str, datetime] = field(default_factory=dict)
    descending: bool = True
    # Vapi sorts by createdAt, duration or cost: campaigns_listed sorts by each (SORT_COLUMNS);
    # campaigns_for, the dashboard's list, always by createdAt.
    sort_by: str = "createdAt"


def campaigns_for(
    organization: Organization, filters: CampaignFilters | None = None, *, with_related: bool = False
) -> QuerySet[Campaign]:
    """The organization's campaigns matching `filters`, deleted ones never included, newest first
    by default (ties by id). `with_related` loads each one's caller ID in the same query (one
    join: what the campaigns page shows beside each); without it, nothing but the campaigns."""
    filters = filters or CampaignFilters()
    campaigns = Campaign.objects.filter(organization=organization, deleted_at__isnull=True)
    if filters.id is not None:
        pk = as_uuid(filters.id)
        campaigns = campaigns.filter(pk=pk) if pk else campaigns.none()
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    if filters.name_contains:
        campaigns = campaigns.filter(name__icontains=filters.name_contains)
    if filters.bounds:
        campaigns = campaigns.filter(**filters.bounds)
    if with_related:
        campaigns = campaigns.select_related("phone_number")
    order = ("-created_at", "-id") if filters.descending else ("created_at", "id")
    return campaigns.order_by(*order)


# Vapi's sortBy values and the column each sorts by (the stored sums of the campaign's calls).
SORT_COLUMNS = {"createdAt": "created_at", "cost": "calls_cost", "duration": "calls_duration_seconds"}


def campaigns_listed(organization: Organization, filters: CampaignFilters) -> QuerySet[Campaign]:
    """The organization's campaigns as Vapi's lists show them (GET /campaign and /v2/campaign).

    Deleted ones never; archived ones only when `filters.status` asks for them (Vapi hides them);
    status in-progress includes paused campaigns, which Vapi's clients see as in-progress (status
    paused: only those). Sorted by `filters.sort_by` (SORT_COLUMNS: createdAt, or the campaign's
    stored cost or talk time of its calls), then by creation and id, in `filters.descending`.
    """
    campaigns = Campaign.objects.filter(organization=organization, deleted_at__isnull=True)
    if filters.id is not None:
        pk = as_uuid(filters.id)
        campaigns = campaigns.filter(pk=pk) if pk else campaigns.none()
    if filters.status == CampaignStatus.IN_PROGRESS:
        campaigns = campaigns.filter(status__in=(CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED))
    elif filters.status:
        campaigns = campaigns.filter(status=filters.status)
    else:
        campaigns = campaigns.exclude(status=CampaignStatus.ARCHIVED)
    if filters.name_contains:
        campaigns = campaigns.filter(name__icontains=filters.name_contains)
    if filters.bounds:
        campaigns = campaigns.filter(**filters.bounds)
    columns = dict.fromkeys((SORT_COLUMNS.get(filters.sort_by, "created_at"), "created_at", "id"))
    return campaigns.order_by(*(f"-{c}" if filters.descending else c for c in columns))


def campaign_for(organization: Organization, pk: object, *, with_related: bool = False) -> Campaign | None:
    """One live (not deleted) campaign of the organization; None for another organization's, a
    deleted or a missing campaign, and for a malformed id.

    Its `organization` is the one given (the filter holds it to that row), never read again.
    `with_related` loads its caller ID and author in the same query (what the campaign's pages
    show beside it); without it only the campaign row is read, for callers that need nothing
    else: the live fragments polled every 2 s, and the services, which re-read it under lock.
    """
    pk = as_uuid(pk)
    if pk is None:
        return None
    campaigns = Campaign.objects.filter(organization=organization, pk=pk, deleted_at__isnull=True)
    if with_related:
        campaigns = campaigns.select_related("phone_number", "created_by")
    campaign = campaigns.first()
    if campaign is not None:
        campaign.organization = organization
    return campaign


# Campaigns customers may be moved into (services.customers_move): not dialing yet, or paused.
MOVE_INTO = (CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)


def campaigns_to_move_into(campaign: Campaign, *, limit: int = 200, labels: bool = False) -> list[Campaign]:
    """The campaigns `campaign`'s customers may move into: same organization, scheduled or paused,
    one caller ID (no dial plan), not deleted; by name. With `labels`, only what the page's
    choice shows of each (id, name, status): their whole rows were 30 ms of the customers page
    of an organization with a thousand campaigns."""
    campaigns = (
        Campaign.objects.filter(
            organization_id=campaign.organization_id,
            status__in=MOVE_INTO,
            deleted_at__isnull=True,
            uses_dial_plan=False,
        )
        .exclude(pk=campaign.pk)
        .order_by("name")
    )
    if labels:
        campaigns = campaigns.only("id", "name", "status")
    return list(campaigns[:limit])


def with_organizations(campaigns: Iterable[Row]) -> list[Row]:
    """The campaigns (models, or any row with `organization_id`), each given its organization,
    read once for all the campaigns that share it (a join builds one per campaign). One whose
    organization is gone (deleted since, taking its campaigns with it) is left out."""
    campaigns = list(campaigns)
    organizations = Organization.objects.in_bulk({c.organization_id for c in campaigns})
    kept = []
    for campaign in campaigns:
        if campaign.organization_id in organizations:
            campaign.organization = organizations[campaign.organization_id]
            kept.append(campaign)
    return kept


def campaigns_read_again(campaigns: Mapping[object, Any], fields: Sequence[str]) -> dict[object, Any]:
    """`fields` of these campaigns (rows already loaded, by id) read again onto them, in one
    statement: what a caller that has just locked them decides from, without reading each row
    whole again (a model of a hundred fields). Returns those still there, by id."""
    fresh = {}
    for row in Campaign.objects.filter(pk__in=list(campaigns)).values("id", *fields):
        pk = row.pop("id")
        campaign = fresh[pk] = campaigns[pk]
        for name, value in row.items():
            setattr(campaign, name, value)
    return fresh
