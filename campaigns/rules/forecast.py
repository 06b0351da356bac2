"""When a running campaign will finish, estimated from its recent pace (pure).

The work left is its customers not yet final times the calls a customer has needed so far; the
pace is the calls ended in the recent window, per minute the campaign could dial in it; the finish
is where the calling hours ahead (the campaign's own windows, its end date) hold enough open
minutes for that work. Callees' own hours may narrow the days further: the estimate says so
rather than pretend to know, and how much it can be trusted is said with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]

# Looked this far ahead at most: a campaign that would need longer is said to, without a date.
HORIZON = timedelta(days=90)
NONE, LOW, MEDIUM, HIGH = "none", "low", "medium", "high"


@dataclass(frozen=True)
class Forecast:
    finish_at: datetime | None  # None: no estimate (nothing left, no recent pace, past the horizon)
    calls_left: int
    calls_per_minute: float | None
    confidence: str  # NONE | LOW | MEDIUM | HIGH
    why: str  # in words for people: what the estimate rests on


def forecast(
    *,
    now: datetime,
    customers_left: int,
    customers_final: int,
    calls_ended: int,
    recent_calls: int,
    recent_open_minutes: float,
    open_ahead: Sequence[Interval],
) -> Forecast:
    """`recent_calls` ended in the recent window, which held `recent_open_minutes` of calling
    time; `open_ahead`: the calling time from `now` on (sorted, UTC, merged), up to HORIZON."""
    if customers_left <= 0:
        return Forecast(now, 0, None, HIGH, "every customer is done")
    per_customer = calls_ended / customers_final if customers_final else 1.0
    calls_left = math.ceil(customers_left * max(per_customer, 1.0))
    if recent_calls <= 0 or recent_open_minutes <= 0:
        why = "no call ended in the last half hour of calling time: no pace to estimate from"
        return Forecast(None, calls_left, None, NONE, why)
    pace = recent_calls / recent_open_minutes
    needed = calls_left / pace  # minutes of calling time
    finish = after_open_minutes(open_ahead, needed)
    confidence = _confidence(recent_calls, customers_final)
    why = (
        f"about {calls_left:,} calls left ({per_customer:.1f} per customer so far) at "
        f"{pace:.1f} calls a minute (the last half hour), within the campaign's hours"
    )
    if finish is None:
        return Forecast(None, calls_left, pace, confidence, why + "; more than 90 days of calling time")
    return Forecast(finish, calls_left, pace, confidence, why)


def after_open_minutes(open_ahead: Sequence[Interval], minutes: float) -> datetime | None:
    """The instant `minutes` of open time (`open_ahead`: sorted, merged, UTC) are used up; None past it."""
    left = timedelta(minutes=minutes)
    for start, end in open_ahead:
        if end - start >= left:
            return start + left
        left -= end - start
    return None


def _confidence(recent_calls: int, customers_final: int) -> str:
    """Few calls or few finished customers make the pace and the calls per customer guesses."""
    if recent_calls < 30 or customers_final < 20:
        return LOW
    if recent_calls < 200 or customers_final < 200:
        return MEDIUM
    return HIGH
