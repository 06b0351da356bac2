"""A campaign's pre-flight (rules.preflight): its pending customers grouped as the engine sees them,
in one aggregate query (same zones, same number prefix: the same region and area code), its skipped
customers by reason, its pool, and the organization's recent average call length."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, Min
from django.db.models.functions import Substr

from campaigns import phone
from campaigns.models import Call, CallStatus, Campaign, CustomerState
from campaigns.rules import caller_ids, preflight
from campaigns.rules.engine import CustomerFacts
from campaigns.rules.forecast import HORIZON
from campaigns.rules.policy import callee_regions, campaign_policy
from campaigns.selectors.caller_ids import caller_pool
from campaigns.selectors.wallboard import calling_time

# The prefix that fixes a number's region and area code: "+1415" (North America), "+4420" (UK).
PREFIX = 5
# The average call length is read over the organization's latest ended calls, at most this many.
RECENT_CALLS = 200


def campaign_preflight(campaign: Campaign, now: datetime) -> preflight.Preflight:
    """Who the campaign could call under its settings, who not and why, and when it might finish."""
    policy = campaign_policy(campaign)
    pool = caller_pool(campaign) if campaign.caller_id_mode == caller_ids.Mode.LOCAL_PRESENCE else None
    rows = (
        campaign.customers.filter(state=CustomerState.PENDING)
        .values("time_zone", "time_zones", "region", prefix=Substr("number", 1, PREFIX))
        .annotate(n=Count("id"), sample=Min("number"))
        .order_by()
    )
    groups = []
    for row in rows:
        number = row["sample"] or ""
        zones = (
            (row["time_zone"],) if row["time_zone"] else tuple(z for z in row["time_zones"].split(",") if z)
        )
        number_regions = phone.regions_for(number) if number else ()
        regions = callee_regions(number, row["region"])
        local = None
        if pool is not None:
            callee = caller_ids.Callee(
                id="",
                country=number_regions[0] if number_regions else "",
                region=number_regions[1] if len(number_regions) > 1 else "",
                area_code=phone.area_code_for(number) if number else "",
            )
            local = caller_ids.has_local(pool, callee)
        facts = CustomerFacts(number=number, time_zones=zones, regions=regions)
        groups.append(preflight.Group(row["n"], facts, local))
    skipped = dict(
        campaign.customers.filter(state=CustomerState.SKIPPED)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    recent = Call.objects.filter(
        organization_id=campaign.organization_id, status=CallStatus.ENDED, duration_seconds__gt=0
    ).order_by("-created_at")[:RECENT_CALLS]
    call_seconds = Call.objects.filter(pk__in=recent.values("pk")).aggregate(s=Avg("duration_seconds"))["s"]
    org_cap = campaign.organization.max_concurrent_calls
    concurrency = min(campaign.max_concurrent_calls, org_cap) if org_cap else campaign.max_concurrent_calls
    horizon = now + HORIZON
    if policy.latest_at is not None:
        horizon = min(horizon, policy.latest_at)
    return preflight.preflight(
        policy,
        groups,
        now,
        skipped={reason or "": n for reason, n in skipped.items()},
        concurrency=concurrency,
        call_seconds=float(call_seconds) if call_seconds else None,
        open_ahead=calling_time(policy, now, horizon) if horizon > now else [],
    )
