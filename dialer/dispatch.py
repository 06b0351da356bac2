"""The claim loop: turn due customers into queued calls, never twice.

One pass over running campaigns, of one organization or several (numbered because the order is
what keeps it safe; `dispatch_campaign` is the pass over one):
1. the engine's campaign gate: paused, before earliestAt, outside calling hours -> nothing;
   a campaign the tick gave no line this pass is only told why it waits;
2. in one transaction for all of them, lock the organization rows, then the campaign rows, each
   in id order (the house lock order, campaigns.services.tx: an end waits for this round, or
   this round sees it ended), and take the headroom from the counters (campaign cap,
   organization cap) and the pacing bucket stored on the campaign row as locked (rules.pacing:
   refilled continuously, shared by every worker because it moves under this lock);
3. lock up to that many due pending customers of each campaign, in one statement on PostgreSQL
   (`FOR UPDATE SKIP LOCKED`, so two dispatchers never wait on or share a row);
4. ask the engine about each; a customer to dial moves pending -> queued with a
   conditional UPDATE that proceeds only if the row was still pending (this is what
   keeps SQLite correct, where row locks do not exist), and gets its Call row;
   the others are deferred or skipped with the engine's reason;
5. move the counters and take a pacing token per call in that same transaction, and enqueue
   placement on commit. The organization's lines taken by one campaign are counted before the
   next one's room is read, and so are the calls of each caller ID: caps hold across campaigns.

Calls queued here are decided again at the last gate when they leave (dialer.claims), at the
real time and on fresh data; this pass only decides which customers are worth a call now.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

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
from campaigns.rules.policy import CAMPAIGN_FIELDS, campaign_policy, customer_facts
from campaigns.rules.reasons import ALL_LINES_BUSY, ORGANIZATION_LINES_BUSY, PACING
from campaigns.services.tx import insert_rows, lock_campaigns, lock_organizations

log = logging.getLogger(__name__)

# A queued call not taken for placement after this long lost its task (a re-send is harmless:
# each call is taken by one conditional UPDATE, so a task for calls already taken does nothing).
ORPHAN_AFTER = timedelta(seconds=15)
# Customers examined per claim round; a round repeats while deferrals leave headroom unused.
MAX_ROUNDS = 4
# Lines claimed in one transaction per round, about (whole organizations: several organizations
# with few lines each are claimed together, as one campaign of as many lines would be).
CLAIM_LINES = 1000
# How often a pool campaign's caller IDs are checked for a collapsed answer rate (and rested).
REST_CHECK_SECONDS = 60
# The minute whose wallboard snapshots this process's tick took: the step looks once a minute, not
# on every beat (its search over every running campaign was 3% of a pass over a thousand). A
# campaign started later in that minute has its first point at the next one.
_snapshots_taken: dict[str, datetime] = {}


# What a claim round reads of a campaign after locking its row: the fields its limits, caller IDs
# and waiting reason are decided from. The rest (its policy: hours, retries, zones) was read with
# the row the pass began from, milliseconds earlier; the last gate decides each call again on
# fresh data when it leaves.
LOCKED_FIELDS = (
    "status",
    "deleted_at",
    "max_concurrent_calls",
    "calls_scheduled",
    "calls_queued",
    "calls_in_progress",
    "calls_per_minute",
    "pacing_tokens",
    "pacing_at",
    "phone_number_id",
    "caller_id_mode",
    "caller_id_weights",
    "waiting_reason",
    "waiting_until",
    "waiting_detail",
)

# What the tick reads of each running campaign with a customer due (`_Running`): what the lines
# are shared by, what its gate is decided from (rules.policy.CAMPAIGN_FIELDS) and why it waits.
# The campaigns the pass then claims for are read whole, and only they.
RUNNING_FIELDS = tuple(
    dict.fromkeys(
        (
            "id",
            "organization_id",
            "priority",
            "created_at",
            "uses_dial_plan",
            *CAMPAIGN_FIELDS,
            *LOCKED_FIELDS,
        )
    )
)


class _Running(SimpleNamespace):
    """A running campaign as the tick reads it first (RUNNING_FIELDS, and its organization):
    enough to share the lines, decide its gate and say why it waits, without building a model of
    a hundred fields for each of a thousand campaigns on every pass."""

    @property
    def pk(self) -> object:
        return self.id


class ClaimConflict(Exception):
    """A claimed row changed under us; the claim transaction rolls back and the next tick retries."""


class _Waiting:
    """Why each campaign as a whole is not dialing (empty: it is), for the dashboard: collected
    over a step of the dispatch and written together (services.campaigns_set_waiting), only
    where it differs from the row as read."""

    def __init__(self) -> None:
        self.changes: dict[object, services.Waiting] = {}

    def set(
        self, campaign: Campaign, reason: str = "", until: datetime | None = None, detail: str = ""
    ) -> None:
        detail = detail[:200]  # as stored: a longer one would differ from its row on every pass
        if (campaign.waiting_reason, campaign.waiting_until, campaign.waiting_detail) != (
            reason,
            until,
            detail,
        ):
            self.changes[campaign.pk] = (reason, until, detail)
        else:  # as the row says already (a later round's fresh row): nothing to write
            self.changes.pop(campaign.pk, None)

    def closed(self, campaign: Campaign, gate: engine.Decision) -> None:
        """The campaign's gate does not let it dial: it waits for what the gate says."""
        self.set(campaign, gate.reason or "", gate.until, gate.detail)

    def fields(self, campaign: Campaign) -> dict:
        """The campaign's change, as fields its caller writes with the row's other changes
        (and no longer here); none when the row says so already."""
        if campaign.pk not in self.changes:
            return {}
        reason, until, detail = self.changes.pop(campaign.pk)
        return {"waiting_reason": reason, "waiting_until": until, "waiting_detail": detail}

    def write(self, *, held: bool = False) -> None:
        """`held`: in a claim round, whose transaction holds the campaign rows already."""
        services.campaigns_set_waiting(self.changes, held=held)
        self.changes = {}


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


def _wait_for_lines(waiting: _Waiting, campaign: Campaign, now: datetime, limits: dict) -> None:
    """Why a campaign that may dial gets no call this pass: its own limit (or the organization's)
    or, where its own limits allow calls, the organization's other campaigns holding the lines."""
    if engine.headroom(**limits) <= 0:
        waiting.set(campaign, *_held_back(campaign, now, limits))
    else:
        waiting.set(
            campaign, ORGANIZATION_LINES_BUSY, None, "the organization's lines go to its other campaigns"
        )


def _spend_tokens(campaign: Campaign, now: datetime, started: int) -> dict:
    """A pacing token taken per call queued: the campaign's bucket after it, as fields to write in
    the round's statement (under the campaign's lock), and on the campaign as it is held."""
    if not campaign.calls_per_minute:
        return {}
    bucket = pacing.Bucket(campaign.pacing_tokens, campaign.pacing_at)
    after = pacing.take(bucket, campaign.calls_per_minute, now, started)
    campaign.pacing_tokens, campaign.pacing_at = after.tokens, after.at
    return {"pacing_tokens": after.tokens, "pacing_at": after.at}


def _due(campaign_id: object, now: datetime, limit: int) -> list[Customer]:
    rows = Customer.objects.filter(
        campaign_id=campaign_id, state=CustomerState.PENDING, next_attempt_at__lte=now
    )
    rows = rows.order_by("next_attempt_at", "sort_key")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows[:limit])


# Step 3 for several campaigns in one statement (PostgreSQL): each campaign's first due customers
# by the partial index customer_due_pending, as `_due` reads them, locked and skipped as it does.
_DUE_MANY = """
SELECT c.* FROM unnest(%s::uuid[], %s::int[]) AS w(campaign_id, wanted)
CROSS JOIN LATERAL (
    SELECT * FROM campaigns_customer c
    WHERE c.campaign_id = w.campaign_id AND c.state = %s AND c.next_attempt_at <= %s
    ORDER BY c.next_attempt_at, c.sort_key
    LIMIT w.wanted
    FOR UPDATE SKIP LOCKED
) c
"""


def _due_many(wanted: dict[object, int], now: datetime) -> dict[object, list[Customer]]:
    """`_due` for each campaign (id -> how many), in one statement on PostgreSQL."""
    if connection.vendor != "postgresql" or len(wanted) <= 1:
        return {pk: _due(pk, now, n) for pk, n in wanted.items()}
    due: dict[object, list[Customer]] = {pk: [] for pk in wanted}
    params = [list(wanted), list(wanted.values()), CustomerState.PENDING, now]
    for customer in Customer.objects.raw(_DUE_MANY, params):
        due[customer.campaign_id].append(customer)
    for rows in due.values():
        rows.sort(key=lambda c: (c.next_attempt_at, c.sort_key))
    return due


Gates = dict[object, tuple[engine.CampaignPolicy, engine.Decision]]


def _gates(campaigns: list[Campaign], now: datetime, *, isolated: bool = False) -> Gates:
    """Step 1 for each campaign: its policy and the engine's campaign gate at `now`, by campaign
    id (the organizations' quotas read in one statement). `isolated` (the tick's): a campaign
    whose policy cannot be read (bad data) is logged and left out, tried again on the next beat,
    rather than failing the others."""
    organizations = {campaign.organization_id: campaign.organization for campaign in campaigns}
    spent = selectors.quota_refuses_calls(list(organizations.values()), now) if organizations else set()
    gates: Gates = {}
    for campaign in campaigns:
        try:
            policy = campaign_policy(campaign, quota_spent=campaign.organization_id in spent)
            gates[campaign.pk] = (policy, engine.campaign_gate(policy, now))
        except Exception:  # noqa: BLE001 - one campaign must never stop the dialing of the others
            if not isolated:
                raise
            log.exception(
                "tick: the gate of campaign %s failed; it is tried again on the next beat", campaign.pk
            )
    return gates


def _caller_id(campaign: Campaign, customer: Customer, entries: dict) -> object:
    if customer.dial_plan_entry_id:
        return entries[customer.dial_plan_entry_id]
    return campaign.phone_number_id


@dataclass
class _Claim:
    """One campaign in a dispatch of its organization's campaigns: its policy, dial plan
    entries, the share of lines it may take (`limit`) and what it queued so far."""

    campaign: Campaign
    policy: engine.CampaignPolicy
    limit: int | None
    entries: dict = field(default_factory=dict)
    queued: int = 0


def _decide(
    claim: _Claim, customers: list[Customer], blocked: set, now: datetime, wanted: int
) -> tuple[list[Customer], int, Counter]:
    """Step 4 for one campaign's due customers: (those to dial, customers made final, counter
    moves); the others are deferred or skipped here with the engine's reason."""
    dial, finals, moves = [], 0, Counter()
    for customer in customers:
        decision = engine.eligibility(
            customer_facts(customer, do_not_call=customer.number in blocked), claim.policy, now
        )
        if decision.action == engine.Action.DIAL:
            if len(dial) < wanted:
                dial.append(customer)
            continue
        pending = Customer.objects.filter(pk=customer.pk, state=CustomerState.PENDING)
        if decision.action == engine.Action.SKIP:
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
    return dial, finals, moves


def _claim_round(claims: list[_Claim], rooms: dict, now: datetime) -> tuple[list[str], dict, dict]:
    """Steps 3-5 for up to rooms[pk] calls of each campaign (in the order the lines were shared,
    their organizations' and their own rows locked). Returns (call ids created, customers examined
    by campaign id, counter moves by campaign id: the caller writes them with the rest of the
    round's changes to each campaign row)."""
    due = _due_many(rooms, now)
    numbers = {c.number for rows in due.values() for c in rows if c.number}
    organizations = {claim.campaign.organization_id for claim in claims}
    blocked: dict[object, set] = {pk: set() for pk in organizations}
    if numbers:  # each organization's own list: one statement for all of them
        listed = DoNotCall.objects.filter(organization_id__in=list(organizations), number__in=numbers)
        for organization_id, number in listed.values_list("organization_id", "number"):
            blocked[organization_id].add(number)
    usage = _Usage(now)
    decided = {}
    for claim in claims:
        pk = claim.campaign.pk
        if pk in rooms:
            decided[pk] = _decide(claim, due[pk], blocked[claim.campaign.organization_id], now, rooms[pk])
    usage.read([(claim, decided[claim.campaign.pk][0]) for claim in claims if claim.campaign.pk in decided])
    dialing, calls, deltas = [], [], {}
    for claim in claims:
        campaign = claim.campaign
        if campaign.pk not in decided:
            continue
        dial, finals, moves = decided[campaign.pk]
        choices = usage.choose(claim, dial)
        for customer in [c for c in dial if choices[c.pk][0].caller_id is None]:  # they wait for one
            Customer.objects.filter(pk=customer.pk, state=CustomerState.PENDING).update(
                next_attempt_at=now + timedelta(seconds=caller_ids.WAIT_SECONDS),
                reason=engine.Reason.NO_CALLER_ID,
                reason_detail=choices[customer.pk][0].reason[:200],
            )
        dial = [c for c in dial if choices[c.pk][0].caller_id is not None]
        dialing += dial
        made = [
            Call(
                organization_id=campaign.organization_id,
                campaign_id=campaign.pk,
                customer=customer,
                phone_number_id=_caller_id(campaign, customer, claim.entries),
                provider_account_id=claim.entries["provider", customer.dial_plan_entry_id],
                attempt=customer.attempts + 1,
                status=CallStatus.QUEUED,
            )
            for customer in dial
        ]
        _apply_choices(made, choices, pooled=bool(campaign.caller_id_mode))
        calls += made
        moves.update(contacts.moved(CustomerState.PENDING, "", CustomerState.QUEUED, "", len(made)))
        deltas[campaign.pk] = {"calls_queued": len(made), "customers_final": finals, **moves}
    # The conditional UPDATE proceeds only for rows still pending. Under our row locks
    # (PostgreSQL) or the write lock (SQLite IMMEDIATE) all of them are; if not, someone
    # else moved a row and the whole claim rolls back rather than guess which.
    won = Customer.objects.filter(pk__in=[c.pk for c in dialing], state=CustomerState.PENDING).update(
        state=CustomerState.QUEUED, attempts=F("attempts") + 1, reason="", reason_detail=""
    )
    if won != len(dialing):
        raise ClaimConflict(f"{len(dialing) - won} customers changed while being claimed")
    insert_rows(Call, calls)
    made_by: Counter = Counter(call.campaign_id for call in calls)
    for claim in claims:
        claim.queued += made_by[claim.campaign.pk]
    return [str(c.pk) for c in calls], {pk: len(rows) for pk, rows in due.items()}, deltas


class _Usage:
    """The caller IDs a round may choose from and their calls (live, and today for daily caps),
    read once for the round's campaigns and counted up as each call is given its caller ID: caps
    hold across an organization's campaigns (every dispatch holds the organization's lock). A
    caller ID belongs to one organization, whose day its daily cap counts."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.numbers: dict = {}
        self.pools: dict = {}
        self.live: dict[str, int] = {}
        self.today: dict[str, int] = {}

    def read(self, claims: list[tuple[_Claim, list[Customer]]]) -> None:
        wanted: dict[object, str] = {}  # caller ID -> its organization's zone
        counted: dict[str, set] = {}  # zone -> caller IDs whose calls are counted
        daily: dict[str, bool] = {}  # zone -> whether one of them has a daily cap
        for claim, dial in claims:
            if not dial:
                continue
            zone = claim.campaign.organization.time_zone
            if claim.campaign.caller_id_mode:
                pool = selectors.caller_pool(claim.campaign)
                if pool is not None:
                    self.pools[claim.campaign.pk] = pool
                    counted.setdefault(zone, set()).update(n.id for n in pool.numbers)
                    daily[zone] = daily.get(zone, False) or any(n.max_daily is not None for n in pool.numbers)
                    continue
            for customer in dial:
                wanted[_caller_id(claim.campaign, customer, claim.entries)] = zone
        self.numbers = PhoneNumber.objects.in_bulk(list(wanted)) if wanted else {}
        for number in self.numbers.values():
            if number.max_concurrent_calls or number.max_daily_calls:  # without a cap, nothing to count
                zone = wanted[number.pk]
                counted.setdefault(zone, set()).add(number.pk)
                daily[zone] = daily.get(zone, False) or bool(number.max_daily_calls)
        for zone, ids in counted.items():  # one statement per time zone (most rounds: one)
            live, today = selectors.caller_id_usage(ids, self.now, daily=daily.get(zone, False), tz=zone)
            self.live.update(live)
            self.today.update(today)

    def _count(self, caller_id: object) -> None:
        key = str(caller_id)
        self.live[key], self.today[key] = self.live.get(key, 0) + 1, self.today.get(key, 0) + 1

    def choose(self, claim: _Claim, dial: list[Customer]) -> dict:
        """The caller ID of each customer to dial and its provider account, as (choice, account
        id) by customer id: with a pool, chosen by rules.caller_ids; without, the campaign's (or
        its dial plan entry's) number, provided it is enabled, not rested and under its caps."""
        if not dial:
            return {}
        pool = self.pools.get(claim.campaign.pk)
        if pool is not None:
            return self._pooled(pool, dial)
        choices = {}
        for customer in dial:
            number = self.numbers[_caller_id(claim.campaign, customer, claim.entries)]
            facts = selectors.caller_id_facts(number)
            if caller_ids.available(facts, self.live.get(facts.id, 0), self.today.get(facts.id, 0)):
                self._count(facts.id)
                choice = caller_ids.Choice(facts.id, "")
            else:
                choice = caller_ids.Choice(
                    None, f"its caller ID {number.number} is disabled, rested or at a cap"
                )
            choices[customer.pk] = (choice, number.provider_account_id)
        return choices

    def _pooled(self, pool: object, dial: list[Customer]) -> dict:
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
        choices = caller_ids.assign(pool, callees, self.live, self.today)
        for choice in choices:
            if choice.caller_id is not None:
                self._count(choice.caller_id)
        account = {n.id: n.provider for n in pool.numbers}
        return {
            customer.pk: (choice, account.get(choice.caller_id or ""))
            for customer, choice in zip(dial, choices, strict=True)
        }


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
    return dispatch_campaigns([(campaign, limit)], now=now, enqueue=enqueue)[campaign.pk]


def dispatch_campaigns(
    shares: list[tuple[Campaign, int | None]],
    *,
    now: datetime | None = None,
    enqueue: Callable[[list[str]], None],
    done: Counter | None = None,
    gates: Gates | None = None,
) -> Counter:
    """One claim pass over running campaigns of one organization or several, each up to its
    share of lines (None: its own limits alone), in the order given (the tick's: higher priority
    first). Returns the calls queued by campaign id, counted in `done` if given as each round
    commits (what a caller still has if a later round fails).

    A round is one transaction for all of them (their organizations' locks in id order, then their
    rows in id order, their due customers in one statement): the work of a pass grows with its
    rounds, not with the organizations or the campaigns that have something to dial. `gates`:
    step 1 as the caller already decided it at `now` (the tick's, `_gates`), by campaign id.
    """
    now = now or clock.now()
    queued: Counter = Counter() if done is None else done
    if not shares:
        return queued
    gates = gates or {}
    gates = {**_gates([campaign for campaign, _ in shares if campaign.pk not in gates], now), **gates}
    claims: list[_Claim] = []
    lineless: list[Campaign] = []
    waiting = _Waiting()
    for campaign, limit in shares:
        policy, gate = gates[campaign.pk]  # 1.
        if gate.action != engine.Action.DIAL:
            waiting.closed(campaign, gate)
        elif limit == 0:  # no line for it this pass: nothing to claim, only why it waits
            lineless.append(campaign)
        else:
            claims.append(_Claim(campaign, policy, limit))
    claims = _whole(claims)
    for claim in claims:
        _rest_unhealthy(claim.campaign, now)
        claim.entries = _entries(claim.campaign)
    if lineless:  # from the rows as the caller read them: what the dashboard says, not what dials
        org_live = selectors.live_calls_counts({campaign.organization_id for campaign in lineless})
        for campaign in lineless:
            limits = selectors.dialing_limits(campaign, now, org_live=org_live[campaign.organization_id])
            _wait_for_lines(waiting, campaign, now, limits)
    waiting.write()
    for _ in range(MAX_ROUNDS):
        if not claims:
            break
        with transaction.atomic():
            claims = _lock(claims, waiting)
            org_live = selectors.live_calls_counts({claim.campaign.organization_id for claim in claims})
            rooms = {}
            for claim in claims:  # 2.
                campaign = claim.campaign
                limits = selectors.dialing_limits(campaign, now, org_live=org_live[campaign.organization_id])
                room = engine.headroom(**limits)
                if claim.limit is not None:
                    room = min(room, claim.limit - claim.queued)
                if room <= 0:
                    if claim.queued == 0:
                        _wait_for_lines(waiting, campaign, now, limits)
                    continue
                rooms[campaign.pk] = room
                # Held for it until the round is done: the organization's cap holds.
                org_live[campaign.organization_id] += room
            before = {claim.campaign.pk: claim.queued for claim in claims}
            call_ids, examined, deltas = _claim_round(claims, rooms, now) if rooms else ([], {}, {})  # 3.-5.
            # Each claimed campaign's row written once: its counters, its pacing bucket, and
            # that it is dialing (its waiting reason cleared) when the row said otherwise.
            sets = {}
            for claim in claims:
                pk = claim.campaign.pk
                if pk in rooms:
                    waiting.set(claim.campaign)
                    sets[pk] = _spend_tokens(claim.campaign, now, claim.queued - before[pk])
                    sets[pk] |= waiting.fields(claim.campaign)
            services.move_counters_many(deltas, set_values=sets)
            waiting.write(held=True)
            if call_ids:
                transaction.on_commit(lambda ids=call_ids: enqueue(ids))
        for claim in claims:
            queued[claim.campaign.pk] = claim.queued
        # Another round for the campaigns whose deferrals left part of their room unused.
        claims = [
            claim
            for claim in claims
            if claim.campaign.pk in rooms
            and examined.get(claim.campaign.pk, 0) >= rooms[claim.campaign.pk]
            and claim.queued - before[claim.campaign.pk] < rooms[claim.campaign.pk]
        ]
    return queued


def _whole(claims: list[_Claim]) -> list[_Claim]:
    """The claims ready to claim: each campaign with its caller ID. On the tick's first read
    (`_Running`) a campaign gets its caller ID read (once for all that share it); one with a pool
    or a dial plan, whose claim reads them through the model, is read again whole, in one
    statement for all of them, keeping its organization. A campaign deleted meanwhile has
    nothing to claim."""
    light = [claim for claim in claims if isinstance(claim.campaign, _Running)]
    if not light:
        return claims
    whole = [
        claim.campaign.pk for claim in light if claim.campaign.caller_id_mode or claim.campaign.uses_dial_plan
    ]
    rows = Campaign.objects.select_related("phone_number").in_bulk(whole)
    ids = {claim.campaign.phone_number_id for claim in light if claim.campaign.pk not in rows}
    numbers = PhoneNumber.objects.in_bulk(ids - {None})  # (in_bulk of nothing asks nothing)
    ready = []
    for claim in claims:
        campaign = claim.campaign
        if isinstance(campaign, _Running) and campaign.pk in rows:
            rows[campaign.pk].organization = campaign.organization
            claim.campaign = rows[campaign.pk]
        elif isinstance(campaign, _Running) and campaign.pk not in whole:
            campaign.phone_number = numbers.get(campaign.phone_number_id)
        elif isinstance(campaign, _Running):  # deleted since the first read
            continue
        ready.append(claim)
    return ready


def _lock(claims: list[_Claim], waiting: _Waiting) -> list[_Claim]:
    """Step 2's locks, in the claim round's transaction: the organizations' rows, then the
    campaigns' rows, each in id order. Returns the claims still to dial, each on its campaign's
    row as locked: campaigns ended or deleted meanwhile, and those of organizations deleted
    meanwhile or whose dialing is paused (told so in `waiting`), are left out."""
    # Serialise dispatch per organization so its concurrency cap holds across campaigns.
    # NO KEY UPDATE excludes other dispatchers but not the KEY SHARE locks that foreign-key
    # checks of webhook transactions take on this row (FOR UPDATE deadlocks with those).
    ids = {claim.campaign.organization_id for claim in claims}
    lock_organizations(ids, "no_key_update")
    organizations = Organization.objects.in_bulk(ids)
    rows = {claim.campaign.pk: claim.campaign for claim in claims}
    lock_campaigns(rows, "no_key_update")
    fresh = selectors.campaigns_read_again(rows, LOCKED_FIELDS)
    live = []
    for claim in claims:
        campaign, organization = claim.campaign, organizations.get(claim.campaign.organization_id)
        if campaign.pk not in fresh or organization is None:
            continue
        campaign.organization = organization  # the row locked above, read once for all its campaigns
        if campaign.status != CampaignStatus.IN_PROGRESS or campaign.deleted_at:
            continue
        if organization.dialing_paused_at is not None:
            paused = "dialing is paused for the organization"
            waiting.set(campaign, engine.Reason.ORGANIZATION_PAUSED, None, paused)
            continue
        live.append(claim)
    return live


def tick(*, enqueue: Callable[[list[str]], None], now: datetime | None = None) -> None:
    """One beat of the dialer.

    1. start scheduled campaigns whose time has come (auto-start only);
    2. finish running campaigns past latestAt (customers left are skipped as schedule_expired);
    3. dispatch the running campaigns that have a customer due and whose gate lets them dial
       (the others are told why they wait), sharing each organization's free lines between them
       (`share_lines`: higher priority first, then evenly, each up to its own room); placement
       gets the calls of every campaign together, in full batches;
    4. finish running campaigns with nothing left to dial and no call in flight;
    5. hand again to placement the queued calls whose task was lost (a broker restart, a
       killed worker): taking a call for placement is conditional, so a duplicate is harmless;
    6. once a minute, snapshot the counters of running campaigns (the wallboard's trends).

    Work grows with the campaigns that have something to do, not with every running campaign:
    steps 3 and 4 pick their campaigns with one query each, from the stored counters and the
    index of due customers, and step 3 claims the campaigns of many organizations together
    (`dispatch_campaigns`, about CLAIM_LINES lines per transaction). A failure is isolated
    (`_dispatch_isolated`): when a group's claim fails, each organization is claimed on its own,
    then each campaign of the one that fails; a campaign that fails (a lock conflict, bad data)
    is logged and tried again on the next beat, never keeping the others from being dialed.
    """
    now = now or clock.now()
    campaigns = Campaign.objects.filter(deleted_at__isnull=True).select_related(
        "organization", "phone_number"
    )
    due = campaigns.filter(status=CampaignStatus.SCHEDULED, auto_start=True).exclude(earliest_at__gt=now)
    for campaign in _each(due):  # 1.
        _isolated(campaign, "start", lambda c: services.campaign_start(campaign=c, by=None, now=now))
    running = campaigns.filter(status__in=(CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED))
    for campaign in _each(running.filter(latest_at__lte=now)):  # 2.
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
    dialing = dialing.alias(first_due=_first_due())
    candidates = _running(dialing.filter(first_due__lte=now))
    # The gate first, so that only campaigns that may dial now are given lines: one outside its
    # hours would be first in line every pass (it has no live call) and leave its share unused.
    gates = _gates(candidates, now, isolated=True)
    closed = _Waiting()
    dialable = []
    for campaign in [campaign for campaign in candidates if campaign.pk in gates]:
        gate = gates[campaign.pk][1]
        if gate.action == engine.Action.DIAL:
            dialable.append(campaign)
        else:
            closed.closed(campaign, gate)
    closed.write()
    for shares in _claim_groups(_per_organization(share_lines(dialable, now))):  # 3.
        _dispatch_isolated(shares, now, queued.extend, gates)
    # Campaigns with nobody due are not dialing for want of a line: say nothing on their behalf.
    nobody_due = Q(first_due__isnull=True) | Q(first_due__gt=now)
    dialing.exclude(waiting_reason="").filter(nobody_due).update(
        waiting_reason="", waiting_until=None, waiting_detail=""
    )
    if queued:
        enqueue(queued)
    idle = dialing.filter(customers_pending=0, customers_dispatched=0, calls_queued=0, calls_in_progress=0)
    for campaign in _each(idle.filter(calls_scheduled=0)):  # 4. (checked again under its lock)
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
    minute = now.replace(second=0, microsecond=0)
    if _snapshots_taken.get("minute") != minute:  # 6.
        services.campaign_snapshots_take(now=now)
        _snapshots_taken["minute"] = minute


def _each(campaigns: QuerySet) -> list[Campaign]:
    """The campaigns of a tick step, whole: their ids first (a step most beats finds nothing to
    do, and a select of whole rows with their organization and caller ID costs more to compile
    than to run), then their rows when there are some."""
    ids = list(campaigns.values_list("pk", flat=True))
    return list(campaigns.filter(pk__in=ids)) if ids else []


def _running(campaigns: QuerySet) -> list[_Running]:
    """The campaigns as the tick reads them first (`_Running`), each with its organization (an
    organization deleted in between took its campaigns with it: nothing to dial)."""
    return selectors.with_organizations(_Running(**row) for row in campaigns.values(*RUNNING_FIELDS))


def _first_due() -> Subquery:
    """When a campaign's first pending customer comes due (NULL: nobody pending), read as the first
    entry of the partial index customer_due_pending (campaign, next_attempt_at): one probe per
    campaign however many of its customers wait. Asked instead whether any pending customer was
    due now (EXISTS), PostgreSQL walked the campaign's pending customers through
    customer_campaign_state and read each one's row: a campaign whose customers all wait for a
    retry cost a read of every one of them, every tick (1,000 idle campaigns: 75 ms a pass
    against 7.6 ms)."""
    pending = Customer.objects.filter(campaign=OuterRef("pk"), state=CustomerState.PENDING)
    return Subquery(pending.order_by("next_attempt_at").values("next_attempt_at")[:1])


def share_lines(campaigns: list[Campaign], now: datetime) -> list[tuple[Campaign, int]]:
    """How many calls each campaign may queue this pass: each organization's free lines (its cap
    less its live calls) go to its campaigns of the highest priority first and, within a priority,
    evenly by lines in use (water-filling: the campaign with the fewest live calls gets the next
    line), each up to its own room at `now` (its cap less its live calls, and what its pacing
    allows). Campaigns come back highest priority first.

    A campaign's due customers may leave part of its share unused (deferred by their own hours,
    say); those lines are free again on the next pass, a second later.
    """
    shares: list[tuple[Campaign, int]] = []
    by_org: dict[object, list[Campaign]] = {}
    for campaign in campaigns:
        by_org.setdefault(campaign.organization_id, []).append(campaign)
    capped = [pk for pk, group in by_org.items() if group[0].organization.max_concurrent_calls]
    org_live = selectors.live_calls_counts(capped) if capped else {}  # one statement for all of them
    for org_campaigns in by_org.values():
        org = org_campaigns[0].organization
        free = max(0, org.max_concurrent_calls - org_live[org.pk]) if org.max_concurrent_calls else 10**9
        for priority in sorted({c.priority for c in org_campaigns}, reverse=True):
            group = [c for c in org_campaigns if c.priority == priority]
            given = {c.pk: 0 for c in group}
            live = {c.pk: c.calls_scheduled + c.calls_queued + c.calls_in_progress for c in group}
            room = {c.pk: _own_room(c, now) for c in group}
            heap = [(live[c.pk], c.created_at, i) for i, c in enumerate(group) if room[c.pk] > 0]
            heapq.heapify(heap)
            while free > 0 and heap:
                lines, created, i = heapq.heappop(heap)
                campaign = group[i]
                given[campaign.pk] += 1
                free -= 1
                if given[campaign.pk] < room[campaign.pk]:
                    heapq.heappush(heap, (lines + 1, created, i))
            shares += [(c, given[c.pk]) for c in sorted(group, key=lambda c: c.created_at)]
    shares.sort(key=lambda pair: -pair[0].priority)
    return shares


def _own_room(campaign: Campaign, now: datetime) -> int:
    """How many calls the campaign's own limits let it start at `now` (its lines, its pacing),
    whatever its organization's lines."""
    limits = selectors.dialing_limits(campaign, now, org_live=0)
    return engine.headroom(**{**limits, "org_cap": None})


def _per_organization(shares: list[tuple[Campaign, int]]) -> list[list[tuple[Campaign, int]]]:
    """The shares grouped by organization, each group in the order given."""
    groups: dict[object, list[tuple[Campaign, int]]] = {}
    for campaign, lines in shares:
        groups.setdefault(campaign.organization_id, []).append((campaign, lines))
    return list(groups.values())


def _claim_groups(by_org: list[list[tuple[Campaign, int]]]) -> list[list[tuple[Campaign, int]]]:
    """The organizations' shares cut into groups of whole organizations of about CLAIM_LINES
    lines each: each group is claimed in one transaction per round."""
    groups: list[list[tuple[Campaign, int]]] = [[]]
    lines = 0
    for shares in by_org:
        if groups[-1] and lines + sum(n for _, n in shares) > CLAIM_LINES:
            groups.append([])
            lines = 0
        groups[-1] += shares
        lines += sum(n for _, n in shares)
    return [group for group in groups if group]


def _dispatch_isolated(
    shares: list[tuple[Campaign, int]], now: datetime, enqueue: Callable, gates: Gates | None = None
) -> None:
    """dispatch_campaigns, its failure isolated: when several organizations' claim fails, each
    organization is claimed on its own, and when one organization's fails, each of its campaigns
    (_isolated); each for the lines the failed claim did not use."""
    done: Counter = Counter()
    try:
        dispatch_campaigns(shares, now=now, enqueue=enqueue, done=done, gates=gates)
        return
    except Exception:  # noqa: BLE001 - then smaller: a bad one holds up no other
        log.warning("tick: dispatching %d campaigns together failed; apart", len(shares), exc_info=True)
    left = [(campaign, lines - done[campaign.pk]) for campaign, lines in shares]
    if len(by_org := _per_organization(left)) > 1:
        for group in by_org:
            _dispatch_isolated(group, now, enqueue, gates)
        return
    for campaign, lines in left:
        _isolated(
            campaign,
            "dispatch",
            lambda c, n=lines: dispatch_campaign(c, now=now, enqueue=enqueue, limit=n),
        )


def _isolated(campaign: Campaign, step: str, run: Callable[[Campaign], object]) -> None:
    """Run one tick step for one campaign; its failure is logged, not spread to the others.
    InvalidTransition is expected (another tick, or a user, got there first) and stays quiet."""
    try:
        run(campaign)
    except services.InvalidTransition:
        pass
    except Exception:  # noqa: BLE001 - one campaign must never stop the dialing of the others
        log.exception("tick: %s of campaign %s failed; it is tried again on the next beat", step, campaign.pk)
