"""Reads of campaigns: the organization's list, one campaign, and Vapi's campaign documents.

Lookups are scoped to an organization and never return a deleted campaign; with_documents
completes campaigns the caller already found. Nothing here writes. Lists return querysets
(callers paginate); documents are loaded for a whole page at once with a fixed number of queries.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
from django.db import connection
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from campaigns.models import Call, Campaign, CampaignStatus, Customer, DialPlanEntry, Organization
from campaigns.selectors.common import as_uuid

Row = TypeVar("Row")

# Campaigns with more customers than Vapi allows in one document are read page by page.
DOCUMENT_CUSTOMER_LIMIT = 10_000


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


@dataclass
class CampaignDocuments:
    """What a Vapi campaign document lists: customers by position, calls, dial plan entries."""

    customers: list[CustomerRow]
    calls: list[CallRow]
    dial_plan: list[DialPlanEntry]


_ECHO_FIELDS = (
    "id",
    "campaign_id",
    "dial_plan_entry_id",
    "number",
    "number_submitted",
    "sip_uri",
    "extension",
    "name",
    "email",
    "external_id",
    "number_e164_check_enabled",
    "assistant_overrides",
)
_CALL_FIELDS = (
    "id",
    "campaign_id",
    "customer_id",
    "status",
    "ended_reason",
    "started_at",
    "ended_at",
    "analysis",
    "direction",
    "caller_id_choice",
)
# Plain rows, not model instances: a 10,000-customer document reads 20,000 rows, and model
# instantiation would cost more than the queries.
CustomerRow = namedtuple("CustomerRow", _ECHO_FIELDS)
CallRow = namedtuple("CallRow", _CALL_FIELDS)
_IDS = {"id", "campaign_id", "dial_plan_entry_id", "customer_id"}
_TIMESTAMPS = {"started_at", "ended_at"}
_JSON = {"assistant_overrides", "squad_overrides", "analysis"}


class _UtcIso(Func):
    """A timestamp as Vapi writes it (2026-10-01T09:12:30.117Z), formatted by PostgreSQL."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
    output_field = TextField()


def _document_rows(queryset: QuerySet, row: type[tuple], prefix: str = "") -> Iterator[tuple]:
    """`queryset`'s rows as `row` tuples (with `prefix`, the fields of a related row: "customer__").

    On PostgreSQL, ids and timestamps come back as the text the document shows (parsing
    20,000 UUIDs and datetimes only to format them again was most of a document's time), and
    JSON as text decoded here, so Django has no converter to run per row. Elsewhere they stay
    objects (the serializers accept both).
    """
    fields = row._fields
    if connection.vendor != "postgresql":
        yield from map(row._make, queryset.values_list(*(prefix + name for name in fields)))
        return
    columns = [
        Cast(prefix + name, TextField())
        if name in _IDS | _JSON
        else _UtcIso(F(prefix + name))
        if name in _TIMESTAMPS
        else prefix + name
        for name in fields
    ]
    json_at = [i for i, name in enumerate(fields) if name in _JSON]
    for values in queryset.values_list(*columns):
        for i in json_at:
            if values[i] is not None:
                values = (*values[:i], orjson.loads(values[i]), *values[i + 1 :])
        yield row._make(values)


def with_documents(campaigns: list[Campaign]) -> list[Campaign]:
    """Attach `.documents` to each campaign of up to DOCUMENT_CUSTOMER_LIMIT customers.

    Three queries for any number of campaigns (customers, calls, dial plan
    entries); larger campaigns get `documents = None`. Returns `campaigns`.
    """
    small = [c for c in campaigns if c.customers_total <= DOCUMENT_CUSTOMER_LIMIT]
    ids = [c.pk for c in small]
    customers: dict[str, list[CustomerRow]] = defaultdict(list)
    calls: dict[str, list[CallRow]] = defaultdict(list)
    entries: dict[uuid.UUID, list[DialPlanEntry]] = defaultdict(list)
    if ids:
        rows = Customer.objects.filter(campaign_id__in=ids).order_by("campaign_id", "position")
        for customer in _document_rows(rows, CustomerRow):
            customers[str(customer.campaign_id)].append(customer)
        call_rows = Call.objects.filter(campaign_id__in=ids).order_by("created_at", "id")
        for call in _document_rows(call_rows, CallRow):
            calls[str(call.campaign_id)].append(call)
        if any(c.uses_dial_plan for c in small):
            plan = DialPlanEntry.objects.filter(campaign_id__in=ids).order_by("campaign_id", "position")
            for entry in plan:
                entries[entry.campaign_id].append(entry)
    for campaign in campaigns:
        campaign.documents = None
    for campaign in small:
        key = str(campaign.pk)
        campaign.documents = CampaignDocuments(customers[key], calls[key], entries[campaign.pk])
    return campaigns


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
