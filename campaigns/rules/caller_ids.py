"""Caller-ID pools: which of a campaign's caller IDs calls a customer, and when a number rests.

A campaign with a pool (our extension `callerIdPool`) has several caller IDs, possibly on
different providers' accounts. Per call the dialer asks `assign` for each customer it claims:

1. the customer's caller ID of its last call, if it is still in the pool, enabled and not
   rested (people call back the number they saw); when that number is only at a cap, the
   customer waits for it rather than seeing another number;
2. in `split` mode, only the numbers of the provider the customer's group goes to (groups drawn
   from the weights, deterministic by customer id, so a customer stays in its group);
3. among the usable numbers (enabled, not rested, under their concurrency and daily caps): those
   with the callee's area code, else its region (US-CA), else its country, else the pool's
   default, else any usable number; within the first tier that has one, the least used (live
   calls, then calls today), so load spreads;
4. none usable: the customer waits (reason no_caller_id) with the count of each obstacle.

A number is rested (`should_rest`) when its answer rate over its last HEALTH_WINDOW ended calls
falls below REST_BELOW: a collapse like that is the usual sign of a number flagged as spam. A
rested number is not used until a user lifts the rest.

Pure: plain values in, plain values out; no ORM, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# N: a number's health is its answer rate over its last HEALTH_WINDOW ended calls.
HEALTH_WINDOW = 50
# A number with at least HEALTH_WINDOW ended calls answering fewer than this share is rested.
REST_BELOW = 0.10
# A customer waiting for a caller ID is looked at again this much later (caps free up quickly).
WAIT_SECONDS = 30


class Mode(StrEnum):
    LOCAL_PRESENCE = "local-presence"
    SPLIT = "split"


@dataclass(frozen=True)
class CallerId:
    """One caller ID of a pool, as the choice sees it."""

    id: str
    provider: str
    country: str = ""
    region: str = ""  # "US-CA"
    area_code: str = ""  # "415"
    disabled: bool = False
    rested: bool = False
    max_concurrent: int | None = None
    max_daily: int | None = None


@dataclass(frozen=True)
class Callee:
    """Where the customer is, and the caller ID of its last call (None: never called)."""

    id: str
    country: str = ""
    region: str = ""
    area_code: str = ""
    kept: str | None = None


@dataclass(frozen=True)
class Pool:
    numbers: tuple[CallerId, ...]
    default: str  # the campaign's own phoneNumberId
    mode: Mode = Mode.LOCAL_PRESENCE
    # Split mode: (provider, weight) in the order the groups are lettered A, B, ...
    weights: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Choice:
    """The caller ID chosen (None: the customer waits) and why, in words for people."""

    caller_id: str | None
    reason: str


def available(number: CallerId, live: int, today: int) -> bool:
    """Enabled, not rested, and under both caps counting the calls it already has."""
    return (
        not number.disabled
        and not number.rested
        and (number.max_concurrent is None or live < number.max_concurrent)
        and (number.max_daily is None or today < number.max_daily)
    )


def group_of(customer_id: str, weights: Sequence[tuple[str, int]]) -> int:
    """Which split group (index into `weights`) a customer belongs to: a hash of its id placed
    on the weights' cumulative scale, so the same customer always lands in the same group and
    the groups' sizes follow the weights."""
    total = sum(weight for _, weight in weights)
    if total <= 0:
        return 0
    point = int(hashlib.sha256(str(customer_id).encode()).hexdigest()[:15], 16) % total
    for i, (_, weight) in enumerate(weights):
        if point < weight:
            return i
        point -= weight
    return len(weights) - 1  # unreachable: point < total


def label(group: int) -> str:
    """A split group's letter: 0 -> "A"."""
    return chr(ord("A") + group) if group < 26 else f"G{group + 1}"


def choose(pool: Pool, callee: Callee, live: Mapping[str, int], today: Mapping[str, int]) -> Choice:
    """The caller ID for one call to `callee` (steps 1-4 of the module docstring). `live` and
    `today` count each number's live calls and calls created today, by caller ID id."""
    by_id = {n.id: n for n in pool.numbers}

    def free(n: CallerId) -> bool:
        return available(n, live.get(n.id, 0), today.get(n.id, 0))

    kept = by_id.get(callee.kept) if callee.kept else None
    if kept is not None and not kept.disabled and not kept.rested:  # 1.
        if free(kept):
            return Choice(kept.id, "same as the last call")
        return Choice(None, "its caller ID of the last call is at its cap")
    prefix, numbers = "", pool.numbers
    default = by_id.get(pool.default)
    if pool.mode == Mode.SPLIT and pool.weights:  # 2.
        group = group_of(callee.id, pool.weights)
        provider = pool.weights[group][0]
        prefix = f"split {label(group)} · "
        numbers = tuple(n for n in pool.numbers if n.provider == provider)
        if default is None or default.provider != provider:
            default = numbers[0] if numbers else None
    usable = [n for n in numbers if free(n)]
    tiers = (  # 3.
        (
            f"area code {callee.area_code}",
            lambda n: (
                bool(callee.area_code) and n.area_code == callee.area_code and n.country == callee.country
            ),
        ),
        (f"region {callee.region}", lambda n: bool(callee.region) and n.region == callee.region),
        (f"country {callee.country}", lambda n: bool(callee.country) and n.country == callee.country),
        ("default", lambda n: default is not None and n.id == default.id),
        ("pool", lambda n: True),
    )
    for why, matches in tiers:
        candidates = [n for n in usable if matches(n)]
        if candidates:
            order = {n.id: i for i, n in enumerate(pool.numbers)}
            best = min(candidates, key=lambda n: (live.get(n.id, 0), today.get(n.id, 0), order[n.id]))
            return Choice(best.id, prefix + why)
    return Choice(None, prefix + _obstacles(numbers, live, today))  # 4.


def _obstacles(numbers: Sequence[CallerId], live: Mapping[str, int], today: Mapping[str, int]) -> str:
    if not numbers:
        return "no caller ID of the pool is on this provider"
    disabled = sum(n.disabled for n in numbers)
    rested = sum(n.rested and not n.disabled for n in numbers)
    capped = len(numbers) - disabled - rested
    parts = [f"{count} {what}" for count, what in ((disabled, "disabled"), (rested, "rested")) if count]
    if capped:
        parts.append(f"{capped} at their caps")
    return "no caller ID of the pool is usable: " + ", ".join(parts)


def assign(
    pool: Pool, callees: Sequence[Callee], live: Mapping[str, int], today: Mapping[str, int]
) -> list[Choice]:
    """`choose` for each callee in turn, counting each call chosen against its number's caps
    and load before the next choice (a dispatch round's customers share the pool)."""
    live, today = dict(live), dict(today)
    choices = []
    for callee in callees:
        choice = choose(pool, callee, live, today)
        if choice.caller_id is not None:
            live[choice.caller_id] = live.get(choice.caller_id, 0) + 1
            today[choice.caller_id] = today.get(choice.caller_id, 0) + 1
        choices.append(choice)
    return choices


def answer_rate(answered: Sequence[bool], window: int = HEALTH_WINDOW) -> float | None:
    """The share of answered calls among the last `window` (`answered` is newest first);
    None without any call."""
    recent = list(answered[:window])
    return sum(recent) / len(recent) if recent else None


def should_rest(answered: Sequence[bool], window: int = HEALTH_WINDOW, threshold: float = REST_BELOW) -> bool:
    """Whether a number is to be rested: at least `window` ended calls, and fewer than
    `threshold` of the last `window` answered."""
    rate = answer_rate(answered, window)
    return len(answered) >= window and rate is not None and rate < threshold


def rest_reason(answered: Sequence[bool], window: int = HEALTH_WINDOW) -> str:
    rate = answer_rate(answered, window) or 0.0
    return f"answer rate {rate:.0%} over its last {min(len(answered), window)} calls (below {REST_BELOW:.0%})"


def has_local(pool: Pool, callee: Callee) -> bool:
    """Whether a caller ID of the pool that may be used (not disabled, not rested; caps aside, they
    free up) matches the callee by area code or region: local presence is possible for them."""
    return any(
        not n.disabled
        and not n.rested
        and (
            (bool(callee.area_code) and n.area_code == callee.area_code and n.country == callee.country)
            or (bool(callee.region) and n.region == callee.region)
        )
        for n in pool.numbers
    )
