"""Usage per billing period and the quota: pure decisions on plain values (no ORM, no clock).

A billing period starts at midnight UTC on the organization's `billing_day` of a month (1–28, so
every month has it; Cobbery's `BillingDoMStart`) and ends where the next one starts. Conversation
minutes are the calls' talk time. With included minutes set, the quota mode says what happens once
they are used: "off" nothing, "warn" the organization page and the API say so, "pause" the last
gate refuses new calls (Reason.QUOTA_SPENT) until the next period or more minutes are included.
Costs are summed per unit: a provider's currency ("USD") or its own unit ("credits", ElevenLabs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.rules.hours import aware_utc

BILLING_DAYS = range(1, 29)
# An ISO 4217 code: money, which a campaign's stored cost (its sort key) sums; anything else
# (ElevenLabs' credits) is kept per call and summed per unit, never added to money.
_CURRENCY = re.compile(r"[A-Z]{3}")


class QuotaMode(StrEnum):
    OFF = "off"
    WARN = "warn"
    PAUSE = "pause"


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


@dataclass(frozen=True)
class Quota:
    mode: QuotaMode
    included_minutes: int | None  # None: no quota
    used_minutes: float
    remaining_minutes: float | None  # None without a quota; never negative
    spent: bool  # included minutes set and all used
    warn: bool  # spent, and the mode asks to say so (warn or pause)
    refuses_calls: bool  # spent in pause mode: the last gate refuses new calls


def billing_period(now: datetime, billing_day: int) -> Period:
    """The billing period holding `now`: from the last `billing_day` at 00:00 UTC at or before it.

    Raises ValueError for a day outside 1–28 or a naive `now`."""
    if billing_day not in BILLING_DAYS:
        raise ValueError(f"billing_day must be 1–28, not {billing_day!r}")
    now = aware_utc(now, "now")
    start = now.replace(day=billing_day, hour=0, minute=0, second=0, microsecond=0)
    if start > now:
        start = _shift_month(start, -1)
    return Period(start, _shift_month(start, 1))


def _shift_month(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def quota(mode: QuotaMode | str, included_minutes: int | None, used_seconds: float) -> Quota:
    """Where the organization stands against its included minutes."""
    mode = QuotaMode(mode)
    if included_minutes is not None and included_minutes < 0:
        raise ValueError("included_minutes must not be negative")
    used = max(0.0, used_seconds) / 60
    if included_minutes is None:
        return Quota(mode, None, used, None, spent=False, warn=False, refuses_calls=False)
    spent = used >= included_minutes
    return Quota(
        mode,
        included_minutes,
        used,
        max(0.0, included_minutes - used),
        spent=spent,
        warn=spent and mode is not QuotaMode.OFF,
        refuses_calls=spent and mode is QuotaMode.PAUSE,
    )


def is_money(unit: str) -> bool:
    """Whether a cost unit is a currency (ISO 4217 code), as opposed to a provider's own unit."""
    return bool(_CURRENCY.fullmatch(unit or ""))


def period_label(period: Period) -> str:
    last = period.end - timedelta(days=1)
    return f"{period.start:%Y-%m-%d} – {last:%Y-%m-%d}"
