"""What a supervisor's wallboard reads: what a campaign is doing now, its rates and their trend,
its live calls, and every running campaign of the organization on one screen.

Bounded, for a campaign of a million calls: rates come from the campaign's stored counters;
"doing now" from index probes (one due customer, the earliest pending one, the organization's
live calls through the partial index call_org_live); trends from the per-minute snapshots (at
most TREND_POINTS rows); live calls from the partial index call_campaign_live, LIVE_CALLS rows
at most. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery

from campaigns.models import (
    Call,
    CallerIdPoolEntry,
    CallStatus,
    Campaign,
    CampaignSnapshot,
    CampaignStatus,
    Customer,
    CustomerState,
    Organization,
    PhoneNumber,
    TranscriptLine,
)
from campaigns.rules import activity, engine, forecast, hours, pacing
from campaigns.rules.engine import CampaignPolicy
from campaigns.rules.policy import campaign_policy

LIVE_CALLS = 50
TREND_POINTS = 120


def _live_calls(organization_ids: list[object]) -> QuerySet:
    """Calls of these organizations not ended yet (partial index call_org_live: live rows only)."""
    return Call.objects.filter(organization_id__in=organization_ids).exclude(status=CallStatus.ENDED)


def live_calls_count(organization_id: object) -> int:
    """Calls of the organization not ended yet."""
    return _live_calls([organization_id]).count()


def live_calls_counts(organization_ids: Iterable[object]) -> dict[object, int]:
    """live_calls_count of each organization (by the ids as the database gives them back), in
    one statement: the tick shares the lines of every organization with something due.

    COUNT(*), not COUNT(id) (the same number: ids are never null): call_org_live holds both
    columns the statement reads, so it can answer alone, an index-only scan. COUNT(id) needs the
    calls' rows, and after the table was vacuumed and analysed with few calls in it
    (bench_placement), the planner took the index of all the organization's calls instead: each
    claim pass counted every call the organization ever made (4-5 ms at 10,000). Which index a
    plan takes still depends on the statistics; this is what the benchmark measured."""
    ids = list(organization_ids)
    rows = _live_calls(ids).values_list("organization_id").annotate(n=Count("*")).order_by()
    counts = dict.fromkeys(ids, 0)
    counts.update(dict(rows))
    return counts


def dialing_limits(campaign: Campaign, now: datetime, *, org_live: int | None = None) -> dict:
    """The limits engine.headroom weighs for `campaign` at `now`: its lines, the organization's,
    and what its pacing bucket (rules.pacing) allows. The dialer reads them under the campaign's
    lock; the dashboard reads them as they are."""
    allowance = None
    if campaign.calls_per_minute:
        bucket = pacing.Bucket(campaign.pacing_tokens, campaign.pacing_at)
        allowance = pacing.allowance(bucket, campaign.calls_per_minute, now)
    return {
        "campaign_cap": campaign.max_concurrent_calls,
        "campaign_in_flight": campaign.calls_scheduled + campaign.calls_queued + campaign.calls_in_progress,
        "org_cap": campaign.organization.max_concurrent_calls,
        "org_in_flight": live_calls_count(campaign.organization_id) if org_live is None else org_live,
        "pacing_allowance": allowance,
    }


def pacing_next_call(campaign: Campaign, now: datetime) -> datetime | None:
    if not campaign.calls_per_minute:
        return None
    bucket = pacing.Bucket(campaign.pacing_tokens, campaign.pacing_at)
    return pacing.next_call_at(bucket, campaign.calls_per_minute, now)


def campaign_activity(campaign: Campaign, now: datetime, *, org_live: int | None = None) -> activity.Activity:
    """What the campaign is doing at `now` (rules.activity), from its row and three index probes
    (two when the caller already counted the organization's live calls: `org_live`)."""
    live = campaign.calls_scheduled + campaign.calls_queued + campaign.calls_in_progress
    facts = dict(status=campaign.status, calls_live=live, due_now=False, next_due_at=None, room=0, limit="")
    policy = campaign_policy(campaign)
    gate = engine.campaign_gate(policy, now)
    if campaign.status == CampaignStatus.IN_PROGRESS and gate.action is engine.Action.DIAL:
        pending = Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING)
        facts["due_now"] = pending.filter(next_attempt_at__lte=now).exists()
        if not facts["due_now"]:
            facts["next_due_at"] = pending.aggregate(at=Min("next_attempt_at"))["at"]
        limits = dialing_limits(campaign, now, org_live=org_live)
        facts["room"] = engine.headroom(**limits)
        facts["limit"] = engine.binding_limit(**limits)
        facts["limit_until"] = pacing_next_call(campaign, now)
    return activity.activity(activity.ActivityFacts(gate=gate, **facts))


@dataclass(frozen=True)
class Rates:
    """A campaign's rates from its stored counters; None where nothing is there to divide by."""

    calls_ended: int
    answer_rate: float | None  # answered by a person / ended calls
    voicemail_rate: float | None
    failed_rate: float | None  # failed (provider, number, dialer) / ended calls
    average_handle_seconds: float | None  # talk time / answered calls
    cost: Decimal
    cost_per_completed: Decimal | None  # cost / customers reached
    penetration: float | None  # customers called at least once / customers
    attempts_per_customer: float | None  # calls placed / customers called at least once
    objective_rate: float | None  # customers whose objective was met / customers with a result


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def campaign_rates(campaign: Campaign) -> Rates:
    ended = campaign.calls_ended
    placed = ended + campaign.calls_in_progress
    return Rates(
        calls_ended=ended,
        answer_rate=_share(campaign.calls_ended_answered, ended),
        voicemail_rate=_share(campaign.calls_ended_voicemail, ended),
        failed_rate=_share(campaign.calls_ended_failed, ended),
        average_handle_seconds=_share(campaign.calls_duration_seconds, campaign.calls_ended_answered),
        cost=Decimal(campaign.calls_cost or 0),
        cost_per_completed=(
            Decimal(campaign.calls_cost or 0) / campaign.customers_completed
            if campaign.customers_completed
            else None
        ),
        penetration=_share(campaign.customers_dialed, campaign.customers_total),
        attempts_per_customer=_share(placed, campaign.customers_dialed),
        objective_rate=_share(campaign.customers_objective_met, campaign.customers_analysed),
    )


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    calls_ended: int
    answer_rate: float | None  # of the calls ended since the previous point
    failed_rate: float | None
    cost: Decimal  # so far


def campaign_trend(campaign: Campaign, now: datetime) -> list[TrendPoint]:
    """The campaign's rates over its whole life: at most TREND_POINTS snapshots, evenly thinned,
    then the counters as they are at `now`. Each point's rates are those of the calls that ended
    between it and the point before (the first: since the start)."""
    rows = CampaignSnapshot.objects.filter(campaign=campaign).order_by("at")
    total = rows.count()  # one campaign's snapshots: one a minute of its life, through the unique index
    step = max(1, -(-total // TREND_POINTS))
    fields = ("at", "calls_ended", "calls_ended_answered", "calls_ended_failed", "calls_cost")
    if step > 1:
        ids = list(rows.values_list("id", flat=True))[::step]
        sampled = list(rows.filter(pk__in=ids).values_list(*fields))
    else:
        sampled = list(rows.values_list(*fields))
    current = (
        now,
        campaign.calls_ended,
        campaign.calls_ended_answered,
        campaign.calls_ended_failed,
        campaign.calls_cost,
    )
    if not sampled or sampled[-1][1:] != current[1:]:
        sampled.append(current)
    points, before = [], (None, 0, 0, 0, Decimal(0))
    for at, ended, answered, failed, cost in sampled:
        new = ended - before[1]
        points.append(
            TrendPoint(
                at=at,
                calls_ended=ended,
                answer_rate=_share(answered - before[2], new),
                failed_rate=_share(failed - before[3], new),
                cost=Decimal(cost or 0),
            )
        )
        before = (at, ended, answered, failed, cost)
    return points


def campaign_live_calls(campaign: Campaign) -> list[Call]:
    """Calls of the campaign under way now (queued, ringing, talking), newest first: who, since
    when, from which caller ID, and what was said last (`last_said`, `last_role`). At most
    LIVE_CALLS, read newest first through the index call_campaign_created, which stops after
    LIVE_CALLS live rows (sorting every live call of a big campaign by age cost hundreds of
    milliseconds)."""
    last = TranscriptLine.objects.filter(call=OuterRef("pk")).order_by("-at", "-id")
    return list(
        Call.objects.filter(campaign=campaign)
        .exclude(status=CallStatus.ENDED)
        .select_related("customer", "phone_number")
        # The last line of each one's live transcript, if its provider streams one (an index probe
        # each: transcript_line_once leads with the call).
        .annotate(last_said=Subquery(last.values("text")[:1]), last_role=Subquery(last.values("role")[:1]))
        .order_by("-created_at")[:LIVE_CALLS]
    )


@dataclass(frozen=True)
class OverviewAlert:
    """One alert of an overview row; `caller_id`: the caller ID it is about (the page links to it)."""

    text: str
    caller_id: object | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class OverviewRow:
    campaign: Campaign
    rates: Rates
    doing: activity.Activity
    alerts: list[OverviewAlert]


def _unusable_caller_ids(organization: Organization, campaigns: list[Campaign]) -> dict[object, list]:
    """Per campaign id, the caller IDs it dials from (its own, and its pool's) that are rested or
    disabled: two queries, whatever the number of campaigns."""
    unusable = {
        n.pk: n
        for n in PhoneNumber.objects.filter(organization=organization, deleted_at__isnull=True).filter(
            Q(rested_at__isnull=False) | Q(disabled=True)
        )
    }
    found: dict[object, list] = {}
    if not unusable:
        return found
    for campaign in campaigns:
        if campaign.phone_number_id in unusable:
            found.setdefault(campaign.pk, []).append(unusable[campaign.phone_number_id])
    pooled = CallerIdPoolEntry.objects.filter(
        campaign__in=[c.pk for c in campaigns], phone_number_id__in=list(unusable)
    ).values_list("campaign_id", "phone_number_id")
    for campaign_id, number_id in pooled:
        found.setdefault(campaign_id, []).append(unusable[number_id])
    return found


def _caller_id_alert(number: PhoneNumber) -> OverviewAlert:
    if number.rested_at is not None:
        why = f": {number.rested_reason}" if number.rested_reason else ""
        return OverviewAlert(f"Caller ID {number.number} rested{why}", number.pk)
    return OverviewAlert(f"Caller ID {number.number} disabled", number.pk)


def organization_overview(organization: Organization, now: datetime, *, org_live: int) -> list[OverviewRow]:
    """Every running or paused campaign of the organization with its rates, what it is doing
    and its alerts, highest priority first. `org_live` is the organization's live calls
    (live_calls_count), counted once by the caller for the page and every row."""
    campaigns = list(
        Campaign.objects.filter(
            organization=organization,
            deleted_at__isnull=True,
            status__in=(CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED),
        ).order_by("-priority", "-created_at")[:200]
    )
    for campaign in campaigns:
        campaign.organization = organization  # the filter's: not read again per row
    rows = []
    callers = _unusable_caller_ids(organization, campaigns)
    for campaign in campaigns:
        rates = campaign_rates(campaign)
        doing = campaign_activity(campaign, now, org_live=org_live)
        alerts = []
        if doing.code == engine.Reason.ORGANIZATION_PAUSED:
            alerts.append(OverviewAlert("All dialing is paused"))
        elif campaign.status == CampaignStatus.PAUSED:
            alerts.append(OverviewAlert("Paused"))
        if doing.code == activity.NOBODY_DUE and campaign.customers_pending == 0:
            alerts.append(OverviewAlert("Nobody left to call"))
        if rates.failed_rate is not None and rates.calls_ended >= 10 and rates.failed_rate >= 0.5:
            alerts.append(
                OverviewAlert(f"{round(rates.failed_rate * 100)}% of calls failed: check the provider")
            )
        alerts += [_caller_id_alert(number) for number in callers.get(campaign.pk, [])]
        rows.append(OverviewRow(campaign, rates, doing, alerts))
    return rows


@dataclass(frozen=True)
class Tallies:
    """A campaign's stored counters as a supervisor reads them: customers apart from calls."""

    customers: int
    reached: int  # a call connected: answered by a person, or a voicemail left
    answered: int  # of those, answered by a person
    not_reached: int  # attempts used up, skipped (do-not-call, hours, invalid) or refused before a call
    cancelled: int  # cancelled when the campaign ended, never called to a finish
    to_call: int  # still pending, or in a call now
    called: int  # called at least once (penetration)
    calls_placed: int  # every call that left or is leaving
    calls_waiting: int  # queued, not yet sent to the provider
    calls_live: int  # ringing or talking
    calls_ended: int


def campaign_tallies(campaign: Campaign) -> Tallies:
    """From the stored counters only (no query)."""
    return Tallies(
        customers=campaign.customers_total,
        reached=campaign.customers_completed,
        answered=campaign.customers_connected,
        not_reached=campaign.customers_failed
        + campaign.customers_skipped
        + campaign.customers_predial_failed,
        cancelled=campaign.customers_cancelled,
        to_call=campaign.customers_pending + campaign.customers_dispatched,
        called=campaign.customers_dialed,
        calls_placed=campaign.calls_scheduled + campaign.calls_in_progress + campaign.calls_ended,
        calls_waiting=campaign.calls_queued,
        calls_live=campaign.calls_scheduled + campaign.calls_in_progress,
        calls_ended=campaign.calls_ended,
    )


# The pace of a forecast is read over this much of the campaign's recent life.
PACE_WINDOW = timedelta(minutes=30)


def campaign_forecast(campaign: Campaign, now: datetime) -> forecast.Forecast:
    """When the campaign will finish at its recent pace (rules.forecast): the calls ended since
    the snapshot PACE_WINDOW ago (one row through the (campaign, at) index), over the calling
    time that window held, and the calling time ahead within the campaign's hours and end date."""
    policy = campaign_policy(campaign)
    past = (
        CampaignSnapshot.objects.filter(campaign=campaign, at__lte=now - PACE_WINDOW)
        .order_by("-at")
        .values_list("at", "calls_ended")
        .first()
    )
    since, ended_then = past if past else (campaign.started_at or now, 0)
    low = max(since, campaign.started_at or since)
    horizon = now + forecast.HORIZON
    if policy.latest_at is not None:
        horizon = min(horizon, policy.latest_at)
    return forecast.forecast(
        now=now,
        customers_left=campaign.customers_total - campaign.customers_final,
        customers_final=campaign.customers_final,
        calls_ended=campaign.calls_ended,
        recent_calls=campaign.calls_ended - ended_then,
        recent_open_minutes=_open_minutes(policy, low, now),
        open_ahead=calling_time(policy, now, horizon) if horizon > now else [],
    )


def calling_time(policy: CampaignPolicy, low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
    if not policy.calling_hours:
        return [(low, high)]
    return hours.intervals(policy.calling_hours, policy.time_zone, low, high)


def _open_minutes(policy: CampaignPolicy, low: datetime, high: datetime) -> float:
    spans = calling_time(policy, low, high) if high > low else []
    return sum((min(e, high) - max(s, low)).total_seconds() for s, e in spans if e > low and s < high) / 60
