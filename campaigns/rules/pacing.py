"""Pacing: how many calls a campaign may start now so that they leave evenly, never in bursts.

A token bucket refilled continuously at `calls_per_minute / 60` tokens a second, holding at most
`capacity(calls_per_minute)` tokens (about BURST_SECONDS of calls, at least one): a call takes a
token. The bucket is stored on the campaign row (tokens and the instant they were counted) and
moved under the campaign's lock, so every worker draws from the same bucket.

Pure: plain values in and out, `now` passed in, no clock, no ORM. A moment earlier than the
bucket's own (another machine's clock a little behind) refills nothing and never drains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.rules.hours import aware_utc

# How many seconds of calls the bucket may hold: enough for a one-second tick to keep the rate,
# too little for a visible burst.
BURST_SECONDS = 2.0


@dataclass(frozen=True)
class Bucket:
    tokens: float  # calls that may start now, fractional while refilling
    at: datetime | None  # when `tokens` was counted; None: never used (a full bucket)


def capacity(calls_per_minute: int) -> float:
    """The most tokens the bucket holds: BURST_SECONDS of calls at the rate, at least one."""
    if calls_per_minute <= 0:
        raise ValueError("calls_per_minute must be positive")
    return max(1.0, calls_per_minute / 60 * BURST_SECONDS)


def refill(bucket: Bucket, calls_per_minute: int, now: datetime) -> Bucket:
    """The bucket at `now`: tokens added at the rate since it was counted, up to capacity."""
    now = aware_utc(now, "now")
    top = capacity(calls_per_minute)
    if bucket.at is None:
        return Bucket(top, now)
    elapsed = max(0.0, (now - aware_utc(bucket.at, "at")).total_seconds())
    tokens = min(top, max(0.0, bucket.tokens) + elapsed * calls_per_minute / 60)
    return Bucket(tokens, max(now, aware_utc(bucket.at, "at")))


def allowance(bucket: Bucket, calls_per_minute: int, now: datetime) -> int:
    """How many calls may start at `now` (whole tokens in the refilled bucket)."""
    return math.floor(refill(bucket, calls_per_minute, now).tokens + 1e-9)


def take(bucket: Bucket, calls_per_minute: int, now: datetime, started: int) -> Bucket:
    """The bucket after `started` calls left at `now` (never more than `allowance` allowed)."""
    if started < 0:
        raise ValueError("started must not be negative")
    full = refill(bucket, calls_per_minute, now)
    if started > math.floor(full.tokens + 1e-9):
        raise ValueError(f"{started} calls exceed the {full.tokens:.2f} tokens in the bucket")
    return Bucket(max(0.0, full.tokens - started), full.at)


def next_call_at(bucket: Bucket, calls_per_minute: int, now: datetime) -> datetime:
    """The earliest instant at which the bucket holds a whole token again (`now` if it does)."""
    full = refill(bucket, calls_per_minute, now)
    missing = 1.0 - full.tokens
    if missing <= 1e-9:
        return full.at or aware_utc(now, "now")
    return (full.at or aware_utc(now, "now")) + timedelta(seconds=missing * 60 / calls_per_minute)
