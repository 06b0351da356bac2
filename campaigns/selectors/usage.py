"""Usage and cost: an organization's calls, conversation minutes and cost in its billing period,
and a campaign's costs per provider account. Reads only.

Both are bounded aggregates over indexed ranges: an organization's calls created within one
period (index call_org_created), a campaign's calls (call_campaign_created). Costs are summed per
unit, never across units (rules.usage.is_money): dollars and ElevenLabs' credits stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from campaigns.models import Call, Campaign, Organization, ProviderKind
from campaigns.rules import usage


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    unit: str


@dataclass(frozen=True)
class OrganizationUsage:
    period: usage.Period
    calls: int  # calls that left (passed the last gate) in the period
    conversation_seconds: float
    costs: list[Cost]  # per unit, largest first
    quota: usage.Quota


@dataclass(frozen=True)
class ProviderCost:
    account_id: object
    name: str  # the provider account's name
    kind: str
    label: str  # the kind in words ("Twilio Programmable Voice")
    calls: int
    conversation_seconds: float
    costs: list[Cost]


def _costs(rows: list[dict]) -> list[Cost]:
    found = [Cost(row["amount"], row["cost_unit"]) for row in rows if row["cost_unit"] and row["amount"]]
    return sorted(found, key=lambda cost: (not usage.is_money(cost.unit), cost.unit))


def organization_usage(organization: Organization, now: datetime) -> OrganizationUsage:
    """The organization's usage in the billing period holding `now`, and where its quota stands."""
    period = usage.billing_period(now, organization.billing_day)
    calls = Call.objects.filter(
        organization=organization, created_at__gte=period.start, created_at__lt=period.end
    ).filter(confirmed_at__isnull=False)
    totals = calls.aggregate(calls=Count("id"), seconds=Sum("duration_seconds"))
    seconds = float(totals["seconds"] or 0.0)
    costs = _costs(list(calls.values("cost_unit").annotate(amount=Sum("cost")).order_by("cost_unit")))
    return OrganizationUsage(
        period=period,
        calls=totals["calls"],
        conversation_seconds=seconds,
        costs=costs,
        quota=usage.quota(organization.quota_mode, organization.included_minutes, seconds),
    )


def quota_refuses_calls(organizations: list[Organization], now: datetime) -> set:
    """Ids of the organizations whose quota refuses new calls at `now` (pause mode, minutes used).
    Only organizations in pause mode with included minutes cost a query."""
    return {
        org.pk
        for org in organizations
        if org.quota_mode == usage.QuotaMode.PAUSE
        and org.included_minutes is not None
        and organization_usage(org, now).quota.refuses_calls
    }


def campaign_costs_by_provider(campaign: Campaign) -> list[ProviderCost]:
    """The campaign's calls that left, their talk time and costs per provider account (a campaign
    may split its customers across several), by account name. Two grouped queries."""
    calls = Call.objects.filter(campaign=campaign, confirmed_at__isnull=False)
    account = ("provider_account_id", "provider_account__name", "provider_account__kind")
    per_account = list(
        calls.values(*account)
        .annotate(calls=Count("id"), seconds=Sum("duration_seconds"))
        .order_by("provider_account__name", "provider_account_id")
    )
    costs: dict[object, list[dict]] = {}
    for row in (
        calls.filter(~Q(cost_unit=""))
        .values("provider_account_id", "cost_unit")
        .annotate(amount=Sum("cost"))
        .order_by("provider_account_id", "cost_unit")
    ):
        costs.setdefault(row["provider_account_id"], []).append(row)
    labels = dict(ProviderKind.choices)
    return [
        ProviderCost(
            account_id=row["provider_account_id"],
            name=row["provider_account__name"],
            kind=row["provider_account__kind"],
            label=labels.get(row["provider_account__kind"], row["provider_account__kind"]),
            calls=row["calls"],
            conversation_seconds=float(row["seconds"] or 0.0),
            costs=_costs(costs.get(row["provider_account_id"], [])),
        )
        for row in per_account
    ]


def campaign_costs(campaign: Campaign) -> list[Cost]:
    """The campaign's cost per unit, over every provider."""
    rows = (
        Call.objects.filter(campaign=campaign)
        .filter(~Q(cost_unit=""))
        .values("cost_unit")
        .annotate(amount=Sum("cost"))
        .order_by("cost_unit")
    )
    return _costs(list(rows))
