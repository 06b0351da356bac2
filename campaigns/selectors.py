"""Read queries shared by the API and the dashboard. Every one is scoped to an organization.

Nothing here writes. Lists return querysets (callers paginate); documents are
loaded for a whole page at once with a fixed number of queries.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import connection
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from campaigns.models import (
    Call,
    Campaign,
    Customer,
    DialPlanEntry,
    DoNotCall,
    Organization,
    PhoneNumber,
    ProviderAccount,
)

# Campaigns with more customers than Vapi allows in one document are read page by page.
DOCUMENT_CUSTOMER_LIMIT = 10_000


def as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class CampaignFilters:
    """GET /campaign's query: exact id and status, time bounds, order."""

    id: str | None = None  # a malformed id matches nothing
    status: str | None = None
    # {"created_at__gt": datetime, "updated_at__lte": datetime, ...}
    bounds: dict[str, datetime] = field(default_factory=dict)
    descending: bool = True
    # Vapi sorts by createdAt, duration or cost; campaigns have neither of the other two.
    sort_by: str = "createdAt"


def campaigns_for(organization: Organization, filters: CampaignFilters | None = None) -> QuerySet[Campaign]:
    """The organization's campaigns, deleted ones never included, newest first by default."""
    filters = filters or CampaignFilters()
    campaigns = Campaign.objects.filter(organization=organization, deleted_at__isnull=True)
    if filters.id is not None:
        pk = as_uuid(filters.id)
        campaigns = campaigns.filter(pk=pk) if pk else campaigns.none()
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    if filters.bounds:
        campaigns = campaigns.filter(**filters.bounds)
    order = ("-created_at", "-id") if filters.descending else ("created_at", "id")
    return campaigns.order_by(*order)


def campaign_for(organization: Organization, campaign_id: object) -> Campaign | None:
    """One live (not deleted) campaign of the organization, or None (also for malformed ids)."""
    pk = as_uuid(campaign_id)
    if pk is None:
        return None
    return Campaign.objects.filter(organization=organization, pk=pk, deleted_at__isnull=True).first()


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
)
# Plain rows, not model instances: a 10,000-customer document reads 20,000 rows, and model
# instantiation would cost more than the queries.
CustomerRow = namedtuple("CustomerRow", _ECHO_FIELDS)
CallRow = namedtuple("CallRow", _CALL_FIELDS)
_IDS = {"id", "campaign_id", "dial_plan_entry_id", "customer_id"}
_TIMESTAMPS = {"started_at", "ended_at"}
_JSON = {"assistant_overrides", "analysis"}


class _UtcIso(Func):
    """A timestamp as Vapi writes it (2026-10-01T09:12:30.117Z), formatted by PostgreSQL."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
    output_field = TextField()


def _document_rows(queryset: QuerySet, row: type[tuple]) -> Iterator[tuple]:
    """`queryset`'s rows as `row` tuples.

    On PostgreSQL, ids and timestamps come back as the text the document shows (parsing
    20,000 UUIDs and datetimes only to format them again was most of a document's time), and
    JSON as text decoded here, so Django has no converter to run per row. Elsewhere they stay
    objects (the serializers accept both).
    """
    fields = row._fields
    if connection.vendor != "postgresql":
        yield from map(row._make, queryset.values_list(*fields))
        return
    columns = [
        Cast(name, TextField()) if name in _IDS | _JSON else _UtcIso(F(name)) if name in _TIMESTAMPS else name
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
    entries); larger campaigns get `documents = None`.
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


def campaign_customers(
    campaign: Campaign, *, state: str | None = None, reason: str | None = None
) -> QuerySet[Customer]:
    """A campaign's customers in submission order, optionally by dialing state and reason."""
    customers = Customer.objects.filter(campaign=campaign)
    if state:
        customers = customers.filter(state=state)
    if reason:
        customers = customers.filter(reason=reason)
    return customers.order_by("position")


def campaign_calls(
    campaign: Campaign,
    *,
    status: str | None = None,
    ended_reason: str | None = None,
    include_log: bool = False,
    descending: bool = True,
) -> QuerySet[Call]:
    """A campaign's calls, newest first by default, with the customer's number (one join)."""
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


def phone_numbers_for(organization: Organization) -> QuerySet[PhoneNumber]:
    """The organization's caller IDs that have not been retired."""
    return PhoneNumber.objects.filter(organization=organization, deleted_at__isnull=True).order_by(
        "number", "id"
    )


def phone_number_for(organization: Organization, phone_number_id: object) -> PhoneNumber | None:
    pk = as_uuid(phone_number_id)
    return None if pk is None else phone_numbers_for(organization).filter(pk=pk).first()


def provider_account_for(organization: Organization, account_id: object) -> ProviderAccount | None:
    pk = as_uuid(account_id)
    if pk is None:
        return None
    return ProviderAccount.objects.filter(organization=organization, pk=pk, deleted_at__isnull=True).first()


def do_not_call_for(organization: Organization, *, number_contains: str = "") -> QuerySet[DoNotCall]:
    """The organization's do-not-call list, newest first; `number_contains` searches numbers."""
    entries = DoNotCall.objects.filter(organization=organization)
    if number_contains:
        entries = entries.filter(number__contains=number_contains)
    return entries.order_by("-created_at", "-id")


def do_not_call_entry_for(organization: Organization, entry_id: object) -> DoNotCall | None:
    pk = as_uuid(entry_id)
    return None if pk is None else DoNotCall.objects.filter(organization=organization, pk=pk).first()
