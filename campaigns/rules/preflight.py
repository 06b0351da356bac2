"""The pre-flight: before a campaign starts (or while it waits), who it could call under its own
settings, who it could not and why, and when it might finish. Pure: plain values in and out.

The campaign is judged as if it ran now (a scheduled or paused campaign is not "not running" here:
the question is whether its hours, zones, holidays, region rules and caller IDs let it call
anyone). Customers come in groups that the engine cannot tell apart (the same zones and the same
number prefix, hence the same region and area code): each group is decided once by
rules.engine.eligibility, so the cost grows with the distinct zones and prefixes, not with the
customers.

- callable now: the engine would dial them at `now`;
- callable later: they wait for a time the engine found (their hours, a holiday, a region's rule),
  counted by that reason, with the earliest such time;
- held: nothing within the engine's search horizon suits every rule, counted by reason: hours
  that never meet the callee's window (NO_COMMON_HOURS, whichever window closes first), a number
  with no known zone (unknown_time_zone), ...: these would sit forever;
- skipped already at import (do-not-call, invalid numbers), counted by their stored reason;
- without a local caller ID: with a local-presence pool, the callees no usable caller ID matches by
  area code or region (rules.caller_ids.has_local);
- the estimate: the callable customers' first calls at the campaign's concurrency and an average
  call length, placed in the campaign's calling time ahead (rules.forecast's walk).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from campaigns.rules.engine import (
    IN_PROGRESS,
    SEARCH_HORIZON,
    Action,
    CampaignPolicy,
    CustomerFacts,
    eligibility,
)
from campaigns.rules.forecast import HORIZON, Interval, after_open_minutes
from campaigns.rules.reasons import Reason

# Used for the estimate when the organization has no ended call to take an average from.
DEFAULT_CALL_SECONDS = 90.0
# Held because no time within the engine's search horizon suits every window at once (the
# campaign's hours, the callee's, a region's, holidays): whichever closes first at `now` is no
# reason to give for "never".
NO_COMMON_HOURS = "no_common_hours"
HOURLY = {
    Reason.OUTSIDE_CALLING_HOURS,
    Reason.RECIPIENT_LOCAL_TIME,
    Reason.AMBIGUOUS_TIME_ZONE,
    Reason.BLACKOUT_DATE,
    Reason.REGION_HOURS,
}


@dataclass(frozen=True)
class Group:
    """`count` pending customers the engine sees alike: one's facts stand for all."""

    count: int
    facts: CustomerFacts
    local_caller_id: bool | None = None  # None: the campaign has no local-presence pool


@dataclass(frozen=True)
class Preflight:
    pending: int  # customers left to call
    callable_now: int
    callable_later: int
    next_at: datetime | None  # the earliest time one of the later ones may be called
    waiting: dict[str, int]  # reason -> callable later for that reason
    held: dict[str, int]  # reason -> never callable within the horizon under these settings
    skipped: dict[str, int]  # reason -> skipped at import (do-not-call, invalid number, ...)
    without_local_caller_id: int | None  # None: no local-presence pool
    finish_at: datetime | None
    estimate: str  # in words: what the finish rests on, or why there is none
    problems: list[str] = field(default_factory=list)  # what a person must fix, in words

    @property
    def held_total(self) -> int:
        return sum(self.held.values())


def preflight(
    policy: CampaignPolicy,
    groups: Iterable[Group],
    now: datetime,
    *,
    skipped: Mapping[str, int],
    concurrency: int,
    call_seconds: float | None,
    open_ahead: Sequence[Interval],
) -> Preflight:
    """The pre-flight of a campaign whose pending customers are `groups` (see the module)."""
    running = replace(policy, status=IN_PROGRESS, started_at=policy.started_at or now)
    now_n = later_n = pending = 0
    waiting: Counter[str] = Counter()
    held: Counter[str] = Counter()
    next_at: datetime | None = None
    local: int | None = None
    for group in groups:
        pending += group.count
        if group.local_caller_id is not None:
            local = (local or 0) + (0 if group.local_caller_id else group.count)
        decision = eligibility(group.facts, running, now)
        if decision.action == Action.DIAL:
            now_n += group.count
        elif decision.action == Action.WAIT and decision.until is not None:
            later_n += group.count
            waiting[str(decision.reason)] += group.count
            next_at = decision.until if next_at is None else min(next_at, decision.until)
        elif decision.action == Action.WAIT and decision.reason in HOURLY:
            held[NO_COMMON_HOURS] += group.count
        else:
            held[str(decision.reason or Reason.CAMPAIGN_NOT_RUNNING)] += group.count
    start = now if now_n or next_at is None else next_at  # the first call waits for its callee
    finish_at, estimate = _estimate(now_n + later_n, concurrency, call_seconds, open_ahead, start)
    problems = _problems(pending, now_n, later_n, held, local)
    return Preflight(
        pending=pending,
        callable_now=now_n,
        callable_later=later_n,
        next_at=next_at,
        waiting=dict(waiting),
        held=dict(held),
        skipped=dict(skipped),
        without_local_caller_id=local,
        finish_at=finish_at,
        estimate=estimate,
        problems=problems,
    )


def _estimate(
    customers: int,
    concurrency: int,
    call_seconds: float | None,
    open_ahead: Sequence[Interval],
    start: datetime,
) -> tuple[datetime | None, str]:
    if customers <= 0:
        return None, "nobody can be called under these settings: no estimate"
    seconds = call_seconds or DEFAULT_CALL_SECONDS
    source = "the organization's recent calls" if call_seconds else "no call yet: a guess"
    minutes = math.ceil(customers / max(concurrency, 1)) * seconds / 60
    ahead = [(max(s, start), e) for s, e in open_ahead if e > start]
    finish = after_open_minutes(ahead, minutes)
    why = (
        f"{customers:,} first calls, {max(concurrency, 1)} at a time, about {seconds:.0f} s each "
        f"({source}), within the campaign's hours; retries and callees' own hours add to it"
    )
    if finish is None:
        return None, why + f"; more than {HORIZON.days} days of calling time"
    return finish, why


def _problems(
    pending: int, now_n: int, later_n: int, held: Mapping[str, int], local: int | None
) -> list[str]:
    found = []
    labels = {str(r): r.label for r in Reason} | {
        NO_COMMON_HOURS: f"no time within {SEARCH_HORIZON.days} days suits both the campaign's and "
        "the callee's hours"
    }
    if pending and not now_n and not later_n:
        why = ", ".join(f"{labels.get(r, r).lower()} ({n:,})" for r, n in sorted(held.items()))
        found.append(f"Nobody can be called under these settings: {why}.")
    elif held:
        total = sum(held.values())
        why = ", ".join(f"{labels.get(r, r).lower()} ({n:,})" for r, n in sorted(held.items()))
        found.append(f"{total:,} of {pending:,} customers can never be called under these settings: {why}.")
    if local:
        found.append(f"{local:,} customers have no local caller ID in the pool (area code or region).")
    return found
