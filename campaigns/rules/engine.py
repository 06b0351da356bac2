"""Pure dialing decisions: may a campaign or customer be dialed now, how many calls fit,
and what a refusal means for the customer.

Plain values in, plain values out: no ORM, no clock (`now` is passed in), no I/O.
Datetimes must be timezone-aware (ValueError otherwise); results are UTC. Calling windows
and DST live in `rules.hours`, the reasons in `rules.reasons`, what a call's outcome means
in `rules.outcomes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.rules.hours import Window as Window
from campaigns.rules.hours import aware_utc, days_except, every_day, first_common_instant, intervals
from campaigns.rules.hours import is_open as is_open
from campaigns.rules.hours import next_opening as next_opening
from campaigns.rules.reasons import Reason as Reason
from campaigns.rules.strategy import DEFAULT_RETRY_DELAYS, DEFAULTS, RECIPIENT_WINDOW

SCHEDULED, IN_PROGRESS, PAUSED, ENDED = "scheduled", "in-progress", "paused", "ended"
# What a campaign does with a number that may be in several zones (and no zone was given for it):
# wait until every one allows a call, or treat the callee as living in the campaign's zone.
EVERY_ZONE, CAMPAIGN_ZONE = "every", "campaign"
# How far ahead `eligibility` looks for a moment when every window is open.
SEARCH_HORIZON = timedelta(days=8)
# How far to push a customer whose next possible time no rule can tell (e.g. unknown_time_zone).
REEVALUATE_AFTER = timedelta(minutes=15)


class Action(StrEnum):
    DIAL = "dial"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True)
class RetryDelays:
    """Seconds to wait before calling again after each retryable outcome."""

    busy: int = DEFAULT_RETRY_DELAYS["busy"]
    no_answer: int = DEFAULT_RETRY_DELAYS["noAnswer"]
    voicemail: int = DEFAULT_RETRY_DELAYS["voicemail"]
    failed: int = DEFAULT_RETRY_DELAYS["failed"]


@dataclass(frozen=True)
class RegionRule:
    """Where law narrows hours: callees in `region` ("US-FL", a country "DE") may be called only
    inside `windows`, in their own local time. At least one window (an empty set would mean
    "always", like calling hours); a day of rest is the other days' 24-hour windows."""

    region: str
    windows: tuple[Window, ...]
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(self.windows))
        if not self.windows:
            raise ValueError("a region rule needs at least one window")


@dataclass(frozen=True)
class CampaignPolicy:
    status: str  # SCHEDULED | IN_PROGRESS | PAUSED | ENDED
    time_zone: str = "UTC"  # IANA zone of calling_hours
    calling_hours: tuple[Window, ...] = ()  # empty: any time
    earliest_at: datetime | None = None
    latest_at: datetime | None = None
    started_at: datetime | None = None
    capacity_wait: timedelta | None = None  # Vapi drops never-dialed customers this long after start
    respect_recipient_time_zone: bool = True
    recipient_start: time = RECIPIENT_WINDOW[0]  # callee-local window, already clamped by the org floor
    recipient_end: time = RECIPIENT_WINDOW[1]
    max_attempts: int = DEFAULTS["max_attempts"]
    retry_delays: RetryDelays = RetryDelays()
    retry_voicemail: bool = True
    # The organization's settings the campaign cannot change.
    organization_paused: bool = False  # the organization-wide stop
    quota_spent: bool = False  # included minutes used in pause mode (rules.usage.quota().refuses_calls)
    call_unknown_zones: bool = False  # numbers with no known zone may be called in calling_hours
    # Holidays (the organization's and the campaign's): no call on these dates in the callee's
    # own zone(s) (the campaign's zone for a callee with none, or when callee time is off).
    blackout_dates: frozenset[date] = frozenset()
    ambiguous_zones: str = EVERY_ZONE  # EVERY_ZONE | CAMPAIGN_ZONE
    region_rules: tuple[RegionRule, ...] = ()  # the organization's table

    def __post_init__(self) -> None:
        if self.status not in (SCHEDULED, IN_PROGRESS, PAUSED, ENDED):
            raise ValueError(f"unknown campaign status {self.status!r}")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        object.__setattr__(self, "calling_hours", tuple(self.calling_hours))  # callers may pass a list
        object.__setattr__(self, "blackout_dates", frozenset(self.blackout_dates))
        object.__setattr__(self, "region_rules", tuple(self.region_rules))
        if self.ambiguous_zones not in (EVERY_ZONE, CAMPAIGN_ZONE):
            raise ValueError(f"unknown ambiguous-zone policy {self.ambiguous_zones!r}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        for name in ("earliest_at", "latest_at", "started_at"):
            if getattr(self, name) is not None:
                aware_utc(getattr(self, name), name)


@dataclass(frozen=True)
class CustomerFacts:
    number: str  # E.164, or "" for SIP-only customers
    time_zones: tuple[str, ...]  # campaigns.phone.time_zones_for(number), computed at import
    attempts: int = 0
    next_attempt_at: datetime | None = None
    do_not_call: bool = False
    valid_number: bool = True
    # Where the number is and where the callee lives (their place): countries and subdivisions
    # ("US", "US-FL"); a region rule of any of them holds the customer.
    regions: tuple[str, ...] = ()
    callbacks: int = 0  # callbacks granted (rules.outcomes): attempts beyond max_attempts they allow

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_zones", tuple(self.time_zones))  # callers may pass a list
        object.__setattr__(self, "regions", tuple(self.regions))
        if self.next_attempt_at is not None:
            aware_utc(self.next_attempt_at, "next_attempt_at")


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: Reason | None = None
    until: datetime | None = None  # WAIT: earliest instant dialing may become possible; None = unknown
    detail: str = ""


def campaign_gate(policy: CampaignPolicy, now: datetime) -> Decision:
    """Whether the campaign as a whole may dial at `now`; DIAL when it may.

    SKIP when it never will (ended, past latest_at, or its next opening is at or
    after latest_at); WAIT otherwise, with `until` the next instant at or after
    earliest_at when the calling hours are open (None while paused, or while
    scheduled with no earliest_at ahead: someone has to start it).
    """
    return _decide(policy, None, aware_utc(now, "now"))


def eligibility(customer: CustomerFacts, policy: CampaignPolicy, now: datetime) -> Decision:
    """Whether this customer may be dialed at `now`.

    In order: the campaign's SKIPs; the customer's own SKIPs (invalid number,
    do-not-call, attempts used up), which no amount of waiting changes; an unknown
    time zone (WAIT, see below); then WAIT, reporting the first
    of: campaign status, schedule start, calling hours, retry delay, recipient
    local time. A WAIT's `until` is exact: the earliest instant at which all of
    them allow dialing, computed from the windows' intervals (not by stepping
    through minutes) within SEARCH_HORIZON, else None. A WAIT that could only
    end at or after latest_at is SKIP SCHEDULE_EXPIRED instead. A never-dialed
    customer who could be dialed now but is past Vapi's capacity wait is SKIP
    CAPACITY_WAIT_EXPIRED.

    Recipient time: with respect_recipient_time_zone, every zone of the number
    must be inside [recipient_start, recipient_end). A number with no known zone
    (inventing one would be a guess presented as a rule) WAITs with
    UNKNOWN_TIME_ZONE, unless the organization allows such numbers
    (call_unknown_zones) and the campaign has calling hours: then it is dialed
    inside those hours. SIP-only customers (number "") have no recipient check.
    A number with several zones WAITs with AMBIGUOUS_TIME_ZONE while some but not all of them
    allow a call, unless the campaign's policy (ambiguous_zones=CAMPAIGN_ZONE) places the callee
    in the campaign's zone. Blackout dates hold a customer (BLACKOUT_DATE) on those dates in
    each of the callee's zones (the campaign's zone when they have none). A region rule of the
    organization's table whose region the number is in holds it (REGION_HOURS) outside the
    rule's windows in the callee's zones, whatever the campaign's callee-time setting.
    """
    now = aware_utc(now, "now")
    gate = campaign_gate(policy, now)
    if gate.action is Action.SKIP:
        return gate
    if not customer.valid_number:
        return Decision(
            Action.SKIP, Reason.INVALID_NUMBER, detail=f"{customer.number!r} is not a valid number"
        )
    if customer.do_not_call:
        return Decision(Action.SKIP, Reason.DO_NOT_CALL, detail="number is on the do-not-call list")
    if customer.attempts >= policy.max_attempts + customer.callbacks:
        extra = f" (and {customer.callbacks} callbacks)" if customer.callbacks else ""
        return Decision(
            Action.SKIP,
            Reason.MAX_ATTEMPTS,
            detail=f"{customer.attempts} of {policy.max_attempts} attempts{extra} used",
        )
    if _unknown_time_zone(customer, policy):
        why = "the campaign has no calling hours"
        if not policy.call_unknown_zones:
            why = "the organization does not allow calling such numbers"
        detail = f"no time zone is known for {customer.number}; {why}"
        return Decision(Action.WAIT, Reason.UNKNOWN_TIME_ZONE, detail=detail)
    decision = _decide(policy, customer, now)
    # Vapi's rule drops calls that waited for a free line too long. It applies only to
    # customers who could be dialed now: one waiting for their own morning is not
    # waiting for capacity, and is called when it comes.
    deadline = _capacity_deadline(customer, policy)
    if decision.action is Action.DIAL and deadline is not None and now >= deadline:
        return Decision(
            Action.SKIP,
            Reason.CAPACITY_WAIT_EXPIRED,
            detail=f"no free line before {deadline:%Y-%m-%d %H:%M} UTC",
        )
    return decision


# The limits `headroom` weighs, named as `binding_limit` reports the one that holds.
CAMPAIGN_LINES, ORGANIZATION_LINES, PACING = "campaign_lines", "organization_lines", "pacing"


def _limits(
    campaign_cap: int,
    campaign_in_flight: int,
    org_cap: int | None,
    org_in_flight: int,
    pacing_allowance: int | None,
) -> list[tuple[int, str]]:
    limits = [(campaign_cap - campaign_in_flight, CAMPAIGN_LINES)]
    if org_cap:
        limits.append((org_cap - org_in_flight, ORGANIZATION_LINES))
    if pacing_allowance is not None:
        limits.append((pacing_allowance, PACING))
    return limits


def headroom(
    *,
    campaign_cap: int,
    campaign_in_flight: int,
    org_cap: int | None,
    org_in_flight: int,
    pacing_allowance: int | None = None,
) -> int:
    """How many calls may start now: the tightest limit, never below 0.

    A falsy org_cap (None or 0) means no organization cap, as the stored settings use 0 for
    "off"; `pacing_allowance` is what the pacing bucket allows now (rules.pacing), None for no
    pacing.
    """
    limits = _limits(campaign_cap, campaign_in_flight, org_cap, org_in_flight, pacing_allowance)
    return max(0, min(room for room, _ in limits))


def binding_limit(
    *,
    campaign_cap: int,
    campaign_in_flight: int,
    org_cap: int | None,
    org_in_flight: int,
    pacing_allowance: int | None = None,
) -> str:
    """Which limit `headroom` is held by (CAMPAIGN_LINES, ORGANIZATION_LINES or PACING): the
    tightest, lines before pacing on a tie (a full line is what a supervisor acts on)."""
    limits = _limits(campaign_cap, campaign_in_flight, org_cap, org_in_flight, pacing_allowance)
    return min(limits, key=lambda limit: max(0, limit[0]))[1]


# Reasons that hold back the whole campaign: a customer refused for one is due again the moment
# they lift (the tick does not dial while they hold), not after REEVALUATE_AFTER.
_CAMPAIGN_WIDE = frozenset({Reason.CAMPAIGN_PAUSED, Reason.ORGANIZATION_PAUSED, Reason.CAMPAIGN_NOT_RUNNING})


def refusal_state(decision: Decision) -> str:
    """The customer's state when `decision` (not DIAL) stops a call before it leaves.

    WAIT: "pending" again. SKIP: "cancelled" when the campaign has ended (the customer
    was never refused on their own account), "failed" when the attempts are used up,
    "skipped" for everything else (do-not-call, schedule expired, invalid number, ...).
    """
    if decision.action is Action.DIAL:
        raise ValueError("a DIAL decision refuses nothing")
    if decision.action is Action.WAIT:
        return "pending"
    if decision.reason is Reason.CAMPAIGN_NOT_RUNNING:
        return "cancelled"
    if decision.reason is Reason.MAX_ATTEMPTS:
        return "failed"
    return "skipped"


def due_again(decision: Decision, now: datetime) -> datetime:
    """When a customer held back by a WAIT `decision` should be looked at again."""
    now = aware_utc(now, "now")
    if decision.until is not None and decision.until > now:
        return aware_utc(decision.until)
    if decision.reason in _CAMPAIGN_WIDE:
        return now
    return now + REEVALUATE_AFTER


# -- internals ---------------------------------------------------------------


def _unknown_time_zone(customer: CustomerFacts, policy: CampaignPolicy) -> bool:
    """A number whose callee-local hours cannot be checked, and no rule that lets it be called anyway."""
    return bool(
        policy.respect_recipient_time_zone
        and customer.number
        and not customer.time_zones
        and not (policy.call_unknown_zones and policy.calling_hours)
    )


def _capacity_deadline(customer: CustomerFacts, policy: CampaignPolicy) -> datetime | None:
    if customer.attempts or policy.started_at is None or policy.capacity_wait is None:
        return None
    return aware_utc(policy.started_at) + policy.capacity_wait


def _decide(policy: CampaignPolicy, customer: CustomerFacts | None, now: datetime) -> Decision:
    """The time-dependent part, shared by campaign_gate (customer None) and eligibility."""
    if policy.status == ENDED:
        return Decision(Action.SKIP, Reason.CAMPAIGN_NOT_RUNNING, detail="campaign has ended")
    latest = policy.latest_at and aware_utc(policy.latest_at)
    if latest is not None and now >= latest:
        return Decision(
            Action.SKIP, Reason.SCHEDULE_EXPIRED, detail=f"latestAt {latest:%Y-%m-%d %H:%M} UTC has passed"
        )
    if policy.organization_paused and policy.status in (IN_PROGRESS, PAUSED):
        return Decision(
            Action.WAIT, Reason.ORGANIZATION_PAUSED, detail="dialing is paused for the whole organization"
        )
    if policy.status == PAUSED:
        return Decision(Action.WAIT, Reason.CAMPAIGN_PAUSED, detail="campaign is paused")
    if policy.quota_spent and policy.status == IN_PROGRESS:
        return Decision(
            Action.WAIT,
            Reason.QUOTA_SPENT,
            detail="the organization's included minutes for this billing period are used",
        )

    earliest = policy.earliest_at and aware_utc(policy.earliest_at)
    zones = customer.time_zones if customer and policy.respect_recipient_time_zone else ()
    if len(zones) > 1 and policy.ambiguous_zones == CAMPAIGN_ZONE:
        zones = (policy.time_zone,)  # the campaign's policy: an ambiguous callee lives in its zone
    retry_at = customer.next_attempt_at if customer and customer.attempts > 0 else None
    retry_at = retry_at and aware_utc(retry_at)
    local_window = every_day(policy.recipient_start, policy.recipient_end)
    blocked = [zone for zone in zones if not is_open(local_window, zone, now)]
    hours = f"{policy.recipient_start:%H:%M}–{policy.recipient_end:%H:%M}"
    # Holidays are dates where the callee is: each of their zones (the campaign's when none).
    day_zones = (zones or (policy.time_zone,)) if customer and policy.blackout_dates else ()
    holiday = [zone for zone in day_zones if now.astimezone(ZoneInfo(zone)).date() in policy.blackout_dates]
    # A region's rule is law where the callee is: their zones even when callee time is off.
    rules = [r for r in policy.region_rules if customer and r.region in customer.regions]
    rule_zones = _callee_zones(customer, policy) if rules else ()
    closed = [(rule, zone) for rule in rules for zone in rule_zones if not is_open(rule.windows, zone, now)]

    # 1. The first rule that stops dialing right now names the reason.
    if policy.status == SCHEDULED:
        reason, detail = Reason.CAMPAIGN_NOT_RUNNING, "campaign has not been started"
    elif earliest is not None and now < earliest:
        reason, detail = Reason.SCHEDULE_NOT_STARTED, f"earliestAt is {earliest:%Y-%m-%d %H:%M} UTC"
    elif holiday:
        local = now.astimezone(ZoneInfo(holiday[0])).date()
        reason, detail = Reason.BLACKOUT_DATE, f"{local:%Y-%m-%d} is a blackout date in {holiday[0]}"
    elif not is_open(policy.calling_hours, policy.time_zone, now):
        reason, detail = Reason.OUTSIDE_CALLING_HOURS, f"outside calling hours ({policy.time_zone})"
    elif retry_at is not None and retry_at > now:
        reason, detail = Reason.RETRY_DELAY, f"retry due {retry_at:%Y-%m-%d %H:%M} UTC"
    elif closed:
        rule, zone = closed[0]
        local = now.astimezone(ZoneInfo(zone))
        reason, detail = (
            Reason.REGION_HOURS,
            f"{rule.note or rule.region + ' rule'} ({zone} {local:%a %H:%M})",
        )
    elif blocked and len(blocked) < len(zones):
        reason, detail = (
            Reason.AMBIGUOUS_TIME_ZONE,
            f"the number may be in {len(zones)} zones; outside {hours} in {_local_times(blocked, now)}",
        )
    elif blocked:
        reason, detail = (
            Reason.RECIPIENT_LOCAL_TIME,
            f"outside {hours} recipient time in {_local_times(blocked, now)}",
        )
    else:
        return Decision(Action.DIAL)
    if policy.status == SCHEDULED and (earliest is None or earliest <= now):
        return Decision(Action.WAIT, reason, None, detail)  # starting it is up to a person or the tick

    # 2. The earliest instant every rule allows, from the first one any could.
    start = max(t for t in (now, earliest, retry_at) if t is not None)
    end = start + SEARCH_HORIZON
    sets = [intervals(local_window, zone, start, end) for zone in zones]
    if policy.calling_hours:
        sets.append(intervals(policy.calling_hours, policy.time_zone, start, end))
    sets += [days_except(policy.blackout_dates, zone, start, end) for zone in day_zones]
    sets += [intervals(rule.windows, zone, start, end) for rule in rules for zone in rule_zones]
    until = first_common_instant(sets, start, end)

    # 3. A wait that outlasts a deadline is a skip.
    if latest is not None and (until or end) >= latest:
        return Decision(
            Action.SKIP,
            Reason.SCHEDULE_EXPIRED,
            detail=f"{detail}; cannot be dialed before {latest:%Y-%m-%d %H:%M} UTC",
        )
    if until is None:
        return Decision(
            Action.WAIT, reason, None, f"{detail}; no time within {SEARCH_HORIZON.days} days suits every rule"
        )
    if reason in (Reason.RECIPIENT_LOCAL_TIME, Reason.AMBIGUOUS_TIME_ZONE):
        detail += f" until {until.astimezone(ZoneInfo(blocked[0])):%a %H:%M} {blocked[0]}"
    elif reason is Reason.BLACKOUT_DATE:
        detail += f"; next possible {until.astimezone(ZoneInfo(holiday[0])):%a %Y-%m-%d %H:%M}"
    elif reason is Reason.OUTSIDE_CALLING_HOURS:
        detail += f" until {until.astimezone(ZoneInfo(policy.time_zone)):%a %H:%M}"
    return Decision(Action.WAIT, reason, until, detail)


def _callee_zones(customer: CustomerFacts | None, policy: CampaignPolicy) -> tuple[str, ...]:
    """Where the callee may be, for rules that hold whatever the campaign's callee-time setting:
    the number's zones (the campaign's, for an ambiguous number when its policy says so, or when
    none is known)."""
    zones = customer.time_zones if customer else ()
    if len(zones) > 1 and policy.ambiguous_zones == CAMPAIGN_ZONE:
        zones = ()
    return zones or (policy.time_zone,)


def _local_times(zones: list[str], now: datetime) -> str:
    shown = ", ".join(f"{zone} ({now.astimezone(ZoneInfo(zone)):%H:%M})" for zone in zones[:3])
    return shown + (f" and {len(zones) - 3} more" if len(zones) > 3 else "")


def next_lawful(policy: CampaignPolicy, zones: tuple[str, ...], at: datetime) -> datetime | None:
    """The first instant at or after `at` when the campaign's calling hours and every callee zone's
    local window are open (the zones only when the campaign respects callee-local time); None if
    there is none within SEARCH_HORIZON of `at`, or none before latest_at."""
    at = aware_utc(at, "at")
    end = at + SEARCH_HORIZON
    zones = zones if policy.respect_recipient_time_zone else ()
    local_window = every_day(policy.recipient_start, policy.recipient_end)
    sets = [intervals(local_window, zone, at, end) for zone in zones]
    if policy.calling_hours:
        sets.append(intervals(policy.calling_hours, policy.time_zone, at, end))
    found = first_common_instant(sets, at, end)
    latest = policy.latest_at and aware_utc(policy.latest_at)
    if found is None or (latest is not None and found >= latest):
        return None
    return found
