"""The claim loop: turn due customers into queued calls, never twice.

One pass over one campaign (numbered because the order is what keeps it safe):
1. the engine's campaign gate: paused, before earliestAt, outside calling hours -> nothing;
2. in one transaction, lock the organization row, then the campaign row (the house lock
   order, campaigns.services.tx: an end waits for this round, or this round sees it ended),
   and take the headroom from the counters (campaign cap, organization cap) and the pacing
   bucket stored on the campaign row (rules.pacing: refilled continuously, shared by every
   worker because it moves under this lock);
3. lock up to that many due pending customers
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers never wait on or share a row);
4. ask the engine about each; a customer to dial moves pending -> queued with a
   conditional UPDATE that proceeds only if the row was still pending (this is what
   keeps SQLite correct, where row locks do not exist), and gets its Call row;
   the others are deferred or skipped with the engine's reason;
5. move the counters and take a pacing token per call in that same transaction, and enqueue
   placement on commit.

Calls queued here are decided again at the last gate when they leave (dialer.claims), at the
real time and on fresh data; this pass only decides which customers are worth a call now.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from campaigns import clock, phone, selectors, services
from campaigns.models import (
    Call,
    CallStatus,
    Campaign,
    CampaignStatus,
    Customer,
    CustomerState,
    DoNotCall,
    Organization,
    PhoneNumber,
)
from campaigns.rules import caller_ids, contacts, engine, pacing
from campaigns.rules.policy import campaign_policy, customer_facts
from campaigns.rules.reasons import ALL_LINES_BUSY, ORGANIZATION_LINES_BUSY, PACING

log = logging.getLogger(__name__)

# A queued call not taken for placement after this long lost its task (a re-send is harmless:
# each call is taken by one conditional UPDATE, so a task for calls already taken does nothing).
ORPHAN_AFTER = timedelta(seconds=15)
# Customers examined per claim round; a round repeats while deferrals leave headroom unused.
MAX_ROUNDS = 4
# How often a pool campaign's caller IDs are checked for a collapsed answer rate (and rested).
REST_CHECK_SECONDS = 60


class ClaimConflict(Exception):
    """A claimed row changed under us; the claim transaction rolls back and the next tick retries."""


def _set_campaign_waiting(
    campaign: Campaign, reason: str = "", until: datetime | None = None, detail: str = ""
) -> None:
    """Remember why the campaign as a whole is not dialing (empty: it is), for the dashboard."""
    if (campaign.waiting_reason, campaign.waiting_until, campaign.waiting_detail) != (reason, until, detail):
        Campaign.objects.filter(pk=campaign.pk).update(
            waiting_reason=reason, waiting_until=until, waiting_detail=detail[:200]
        )


def live_calls(organization_id: object) -> int:
    return selectors.live_calls_count(organization_id)


def campaign_headroom(campaign: Campaign, now: datetime) -> int:
    return engine.headroom(**selectors.dialing_limits(campaign, now))


def _held_back(campaign: Campaign, now: datetime, limits: dict) -> tuple[str, datetime | None, str]:
    """Why no call may start (waiting_reason, until, detail), from the limit that holds."""
    limit = engine.binding_limit(**limits)
    if limit == engine.PACING:
        return (
            PACING,
            selectors.pacing_next_call(campaign, now),
            f"{campaign.calls_per_minute} calls per minute at most, evenly spaced",
        )
    if limit == engine.ORGANIZATION_LINES:
        return ORGANIZATION_LINES_BUSY, None, f"{limits['org_cap']} lines for the whole organization"
    return ALL_LINES_BUSY, None, f"{limits['campaign_cap']} calls at the same time at most"


def _spend_tokens(campaign: Campaign, now: datetime, started: int) -> None:
    """Take a pacing token per call queued, in the claim's transaction (under the campaign's lock)."""
    if not campaign.calls_per_minute:
        return
    bucket = pacing.Bucket(campaign.pacing_tokens, campaign.pacing_at)
    after = pacing.take(bucket, campaign.calls_per_minute, now, started)
    Campaign.objects.filter(pk=campaign.pk).update(pacing_tokens=after.tokens, pacing_at=after.at)
    campaign.pacing_tokens, campaign.pacing_at = after.tokens, after.at


def _due(campaign: Campaign, now: datetime, limit: int) -> list[Customer]:
    rows = Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING, next_attempt_at__lte=now)
    rows = rows.order_by("next_attempt_at", "sort_key")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows[:limit])


def _caller_id(campaign: Campaign, customer: Customer, entries: dict) -> object:
    if customer.dial_plan_entry_id:
        return entries[customer.dial_plan_entry_id]
    return campaign.phone_number_id


def _claim_round(
    campaign: Campaign, policy: engine.CampaignPolicy, now: datetime, wanted: int, entries: dict
) -> tuple[list[str], int]:
    """Steps 3-5 for up to `wanted` calls. Returns (call ids created, customers examined)."""
    customers = _due(campaign, now, wanted)
    blocked = set(
        DoNotCall.objects.filter(
            organization_id=campaign.organization_id, number__in=[c.number for c in customers if c.number]
        ).values_list("number", flat=True)
    )
    dial, finals, moves = [], 0, Counter()
    for customer in customers:
        decision = engine.eligibility(
            customer_facts(customer, do_not_call=customer.number in blocked), policy, now
        )
        pending = Customer.objects.filter(pk=customer.pk, state=CustomerState.PENDING)
        if decision.action == engine.Action.DIAL:
            if len(dial) < wanted:
                dial.append(customer)
        elif decision.action == engine.Action.SKIP:
            state, reason = engine.refusal_state(decision), decision.reason or ""
            changed = pending.update(state=state, reason=reason, reason_detail=decision.detail[:200])
            finals += changed
            moves.update(contacts.moved(CustomerState.PENDING, "", state, reason, changed))
        else:
            pending.update(
                next_attempt_at=engine.due_again(decision, now),
                reason=decision.reason or "",
                reason_detail=decision.detail[:200],
            )
    choices = _caller_choices(campaign, dial, now, entries)
    if dial:  # those without a usable caller ID wait for one
        for customer in [c for c in dial if choices[c.pk][0].caller_id is None]:
            Customer.objects.filter(pk=customer.pk, state=CustomerState.PENDING).update(
                next_attempt_at=now + timedelta(seconds=caller_ids.WAIT_SECONDS),
                reason=engine.Reason.NO_CALLER_ID,
                reason_detail=choices[customer.pk][0].reason[:200],
            )
        dial = [c for c in dial if choices[c.pk][0].caller_id is not None]
    # The conditional UPDATE proceeds only for rows still pending. Under our row locks
    # (PostgreSQL) or the write lock (SQLite IMMEDIATE) all of them are; if not, someone
    # else moved a row and the whole claim rolls back rather than guess which.
    won = Customer.objects.filter(pk__in=[c.pk for c in dial], state=CustomerState.PENDING).update(
        state=CustomerState.QUEUED, attempts=F("attempts") + 1, reason="", reason_detail=""
    )
    if won != len(dial):
        raise ClaimConflict(f"{len(dial) - won} customers changed while being claimed")
    calls = [
        Call(
            organization_id=campaign.organization_id,
            campaign=campaign,
            customer=customer,
            phone_number_id=_caller_id(campaign, customer, entries),
            provider_account_id=entries["provider", customer.dial_plan_entry_id],
            attempt=customer.attempts + 1,
            status=CallStatus.QUEUED,
        )
        for customer in dial
    ]
    _apply_choices(calls, choices, pooled=bool(campaign.caller_id_mode))
    Call.objects.bulk_create(calls)
    moves.update(contacts.moved(CustomerState.PENDING, "", CustomerState.QUEUED, "", won))
    services.move_counters(campaign.pk, calls_queued=len(calls), customers_final=finals, **moves)
    return [str(c.pk) for c in calls], len(customers)


def _caller_choices(campaign: Campaign, dial: list[Customer], now: datetime, entries: dict) -> dict:
    """The caller ID of each customer to dial and its provider account, as (choice, account id)
    by customer id: with a pool, chosen by rules.caller_ids; without, the campaign's (or its dial
    plan entry's) number, provided it is enabled, not rested and under its caps. The numbers'
    calls are counted under the organization's lock, which every dispatch takes: caps hold across
    the organization's campaigns."""
    if not dial:
        return {}
    pool = selectors.caller_pool(campaign) if campaign.caller_id_mode else None
    if pool is None:
        return _fixed_choices(campaign, dial, now, entries)
    daily = any(n.max_daily is not None for n in pool.numbers)
    zone = campaign.organization.time_zone  # a daily cap counts the organization's day
    live, today = selectors.caller_id_usage([n.id for n in pool.numbers], now, daily=daily, tz=zone)
    callees = []
    for customer in dial:
        regions = phone.regions_for(customer.number)
        callees.append(
            caller_ids.Callee(
                id=str(customer.pk),
                country=regions[0] if regions else "",
                region=regions[1] if len(regions) > 1 else "",
                area_code=phone.area_code_for(customer.number),
                kept=str(customer.caller_id_id) if customer.caller_id_id else None,
            )
        )
    choices = caller_ids.assign(pool, callees, live, today)
    account = {n.id: n.provider for n in pool.numbers}
    return {
        customer.pk: (choice, account.get(choice.caller_id or ""))
        for customer, choice in zip(dial, choices, strict=True)
    }


def _fixed_choices(campaign: Campaign, dial: list[Customer], now: datetime, entries: dict) -> dict:
    """`_caller_choices` without a pool: each customer's one caller ID, if it is usable."""
    wanted = {_caller_id(campaign, customer, entries) for customer in dial}
    numbers = PhoneNumber.objects.in_bulk(wanted)
    live, today = {}, {}
    if any(n.max_concurrent_calls or n.max_daily_calls for n in numbers.values()):  # counted only for caps
        daily = any(n.max_daily_calls for n in numbers.values())
        zone = campaign.organization.time_zone
        live, today = selectors.caller_id_usage(wanted, now, daily=daily, tz=zone)
    choices = {}
    for customer in dial:
        pk = _caller_id(campaign, customer, entries)
        facts = selectors.caller_id_facts(numbers[pk])
        if caller_ids.available(facts, live.get(facts.id, 0), today.get(facts.id, 0)):
            live[facts.id], today[facts.id] = live.get(facts.id, 0) + 1, today.get(facts.id, 0) + 1
            choice = caller_ids.Choice(facts.id, "")
        else:
            choice = caller_ids.Choice(
                None, f"its caller ID {numbers[pk].number} is disabled, rested or at a cap"
            )
        choices[customer.pk] = (choice, numbers[pk].provider_account_id)
    return choices


def _apply_choices(calls: list[Call], choices: dict, *, pooled: bool) -> None:
    """Put each choice on its call (caller ID, its provider account, and with a pool why) and,
    with a pool, remember it on the customer, so a retry keeps it."""
    kept: dict[str, list] = {}
    for call in calls:
        choice, account_id = choices[call.customer.pk]
        call.phone_number_id, call.provider_account_id = choice.caller_id, account_id
        call.caller_id_choice = choice.reason[:100]
        if pooled and str(call.customer.caller_id_id) != choice.caller_id:
            kept.setdefault(choice.caller_id, []).append(call.customer.pk)
    for caller_id, customer_ids in kept.items():
        Customer.objects.filter(pk__in=customer_ids).update(caller_id_id=caller_id)


def _entries(campaign: Campaign) -> dict:
    """Caller ID and provider account per dial plan entry (None: the campaign's own number)."""
    entries: dict = {}
    if campaign.phone_number_id:
        entries["provider", None] = campaign.phone_number.provider_account_id
    if not campaign.uses_dial_plan:  # its customers name no entry (a campaign dials one way)
        return entries
    for entry in campaign.dial_plan.select_related("phone_number"):
        entries[entry.pk] = entry.phone_number_id
        entries["provider", entry.pk] = entry.phone_number.provider_account_id
    return entries


def _rest_unhealthy(campaign: Campaign, now: datetime) -> None:
    """Rest the pool's numbers whose answer rate collapsed (rules.caller_ids.should_rest) before
    claiming, in a transaction of its own (it locks no campaign). At most once a minute per
    campaign: reading the numbers' last calls is not worth doing every beat."""
    if not campaign.caller_id_mode or not cache.add(f"caller-id-rest:{campaign.pk}", 1, REST_CHECK_SECONDS):
        return
    numbers = [n for n in selectors.pool_numbers(campaign) if n.rested_at is None]
    with transaction.atomic():
        rested = services.caller_ids_rest(answered=selectors.caller_id_answers(numbers), now=now)
    if rested:
        log.warning("rested caller IDs %s: their answer rate collapsed", ", ".join(map(str, rested)))


def dispatch_campaign(
    campaign: Campaign,
    *,
    now: datetime | None = None,
    enqueue: Callable[[list[str]], None],
    limit: int | None = None,
) -> int:
    """One claim pass over a running campaign; returns how many calls were queued.

    `enqueue(call_ids)` is called after the transaction commits (placement must never
    see a call that might still roll back). `limit` caps the calls this pass may queue (the
    tick's share of the organization's free lines for this campaign).
    """
    now = now or clock.now()
    spent = selectors.quota_refuses_calls([campaign.organization], now)
    policy = campaign_policy(campaign, quota_spent=bool(spent))
    gate = engine.campaign_gate(policy, now)  # 1.
    if gate.action != engine.Action.DIAL:
        _set_campaign_waiting(campaign, gate.reason or "", gate.until, gate.detail)
        return 0
    _rest_unhealthy(campaign, now)
    entries = _entries(campaign)
    queued = 0
    for _ in range(MAX_ROUNDS):
        with transaction.atomic():
            # Serialise dispatch per organization so its concurrency cap holds across campaigns.
            # NO KEY UPDATE excludes other dispatchers but not the KEY SHARE locks that foreign-key
            # checks of webhook transactions take on this row (FOR UPDATE deadlocks with those).
            Organization.objects.select_for_update(no_key=True).filter(
                pk=campaign.organization_id
            ).values_list("pk").first()
            fresh = (
                Campaign.objects.select_for_update(no_key=True, of=("self",))
                .select_related("organization")
                .get(pk=campaign.pk)
            )
            if fresh.status != CampaignStatus.IN_PROGRESS or fresh.deleted_at:
                return queued
            if fresh.organization.dialing_paused_at is not None:
                _set_campaign_waiting(
                    fresh, engine.Reason.ORGANIZATION_PAUSED, None, "dialing is paused for the organization"
                )
                return queued
            limits = selectors.dialing_limits(fresh, now)  # 2.
            room = engine.headroom(**limits)
            if limit is not None:
                room = min(room, limit - queued)
            if room <= 0:
                if queued == 0 and engine.headroom(**limits) <= 0:
                    _set_campaign_waiting(fresh, *_held_back(fresh, now, limits))
                elif queued == 0:  # its own limits allow calls: the organization's campaigns hold the lines
                    _set_campaign_waiting(
                        fresh,
                        ORGANIZATION_LINES_BUSY,
                        None,
                        "the organization's lines go to its other campaigns",
                    )
                return queued
            call_ids, examined = _claim_round(fresh, policy, now, room, entries)  # 3.-5.
            _spend_tokens(fresh, now, len(call_ids))
            if call_ids:
                transaction.on_commit(lambda ids=call_ids: enqueue(ids))
            queued += len(call_ids)
            _set_campaign_waiting(fresh)
        if examined < room or len(call_ids) == room:
            break
    return queued


def tick(*, enqueue: Callable[[list[str]], None], now: datetime | None = None) -> None:
    """One beat of the dialer.

    1. start scheduled campaigns whose time has come (auto-start only);
    2. finish running campaigns past latestAt (customers left are skipped as schedule_expired);
    3. dispatch the running campaigns that have a customer due, sharing each organization's free
       lines between them (`share_lines`: higher priority first, then evenly); placement gets
       the calls of every campaign together, in full batches;
    4. finish running campaigns with nothing left to dial and no call in flight;
    5. hand again to placement the queued calls whose task was lost (a broker restart, a
       killed worker): taking a call for placement is conditional, so a duplicate is harmless;
    6. once a minute, snapshot the counters of running campaigns (the wallboard's trends).

    Work grows with the campaigns that have something to do, not with every running campaign:
    steps 3 and 4 pick their campaigns with one query each, from the stored counters and the
    index of due customers. Each campaign is handled on its own: one that fails (a lock
    conflict, bad data) is logged and tried again on the next beat, never keeping the others
    from being dialed.
    """
    now = now or clock.now()
    campaigns = Campaign.objects.filter(deleted_at__isnull=True).select_related(
        "organization", "phone_number"
    )
    due = campaigns.filter(status=CampaignStatus.SCHEDULED, auto_start=True).exclude(earliest_at__gt=now)
    for campaign in due:  # 1.
        _isolated(campaign, "start", lambda c: services.campaign_start(campaign=c, by=None, now=now))
    running = campaigns.filter(status__in=(CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED))
    for campaign in running.filter(latest_at__lte=now):  # 2.
        _isolated(
            campaign,
            "finish",
            lambda c: services.campaign_finish(
                campaign=c,
                reason=engine.Reason.SCHEDULE_EXPIRED,
                detail="latestAt passed before this customer could be called",
            ),
        )
    queued: list[str] = []
    dialing = running.filter(status=CampaignStatus.IN_PROGRESS)
    # Who is due is read from the customers themselves (an index probe per campaign), never from
    # a counter: a counter that drifted could at worst keep a campaign open, never skip a customer.
    candidates = list(dialing.filter(Exists(_due_customers(now))))
    for campaign, lines in share_lines(candidates):  # 3.
        _isolated(
            campaign,
            "dispatch",
            lambda c, n=lines: dispatch_campaign(c, now=now, enqueue=queued.extend, limit=n),
        )
    # Campaigns with nobody due are not dialing for want of a line: say nothing on their behalf.
    dialing.exclude(pk__in=[c.pk for c in candidates]).exclude(waiting_reason="").update(
        waiting_reason="", waiting_until=None, waiting_detail=""
    )
    if queued:
        enqueue(queued)
    idle = dialing.filter(customers_pending=0, customers_dispatched=0, calls_queued=0, calls_in_progress=0)
    for campaign in idle.filter(calls_scheduled=0):  # 4. (checked again under its lock)
        _isolated(campaign, "finish", lambda c: services.campaign_finish(campaign=c))
    orphans = (
        Call.objects.filter(
            status=CallStatus.QUEUED, placing_at__isnull=True, created_at__lt=now - ORPHAN_AFTER
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lt=now - ORPHAN_AFTER))
        .values_list("pk", flat=True)
    )
    orphan_ids = [str(pk) for pk in orphans[:1000]]
    if orphan_ids:  # 5.
        log.warning("re-sending %d queued calls whose placement task was lost", len(orphan_ids))
        # Not again for ORPHAN_AFTER, even if no worker takes them meanwhile (workers down):
        # one re-send per call per interval, not one per tick.
        Call.objects.filter(pk__in=orphan_ids, placing_at__isnull=True).update(not_before=now)
        enqueue(orphan_ids)
    services.campaign_snapshots_take(now=now)  # 6.


def _due_customers(now: datetime) -> QuerySet:
    """A campaign's pending customers due now (the partial index customer_due_pending answers it)."""
    return Customer.objects.filter(
        campaign=OuterRef("pk"), state=CustomerState.PENDING, next_attempt_at__lte=now
    )


def share_lines(campaigns: list[Campaign]) -> list[tuple[Campaign, int]]:
    """How many calls each campaign may queue this pass: each organization's free lines (its cap
    less its live calls) go to its campaigns of the highest priority first and, within a priority,
    evenly by lines in use (water-filling: the campaign with the fewest live calls gets the next
    line), each up to its own cap. Campaigns come back highest priority first.

    A campaign's pacing or its due customers may leave part of its share unused; those lines are
    free again on the next pass, a second later.
    """
    shares: list[tuple[Campaign, int]] = []
    by_org: dict[object, list[Campaign]] = {}
    for campaign in campaigns:
        by_org.setdefault(campaign.organization_id, []).append(campaign)
    for org_campaigns in by_org.values():
        org = org_campaigns[0].organization
        free = max(0, org.max_concurrent_calls - live_calls(org.pk)) if org.max_concurrent_calls else 10**9
        for priority in sorted({c.priority for c in org_campaigns}, reverse=True):
            group = [c for c in org_campaigns if c.priority == priority]
            given = {c.pk: 0 for c in group}
            live = {c.pk: c.calls_scheduled + c.calls_queued + c.calls_in_progress for c in group}
            heap = [
                (live[c.pk], c.created_at, i)
                for i, c in enumerate(group)
                if live[c.pk] < c.max_concurrent_calls
            ]
            heapq.heapify(heap)
            while free > 0 and heap:
                lines, created, i = heapq.heappop(heap)
                campaign = group[i]
                given[campaign.pk] += 1
                free -= 1
                if lines + 1 < campaign.max_concurrent_calls:
                    heapq.heappush(heap, (lines + 1, created, i))
            shares += [(c, given[c.pk]) for c in sorted(group, key=lambda c: c.created_at)]
    shares.sort(key=lambda pair: -pair[0].priority)
    return shares


def _isolated(campaign: Campaign, step: str, run: Callable[[Campaign], object]) -> None:
    """Run one tick step for one campaign; its failure is logged, not spread to the others.
    InvalidTransition is expected (another tick, or a user, got there first) and stays quiet."""
    try:
        run(campaign)
    except services.InvalidTransition:
        pass
    except Exception:  # noqa: BLE001 - one campaign must never stop the dialing of the others
        log.exception("tick: %s of campaign %s failed; it is tried again on the next beat", step, campaign.pk)
