"""When a recurring campaign's runs are due (Kore's isRecurrenceEnabled): daily, weekly or monthly,
at a local time of day in a time zone, until an end date or a number of runs. Pure: `now` in.

Run 0 is the campaign the series was made from (its first day); run k falls k days, weeks or
months later (monthly: the same day of the month, or the month's last day when it has fewer).
A local time that a DST change skips is read with the offset before the change (02:30 on a
spring-forward night is 03:30), one that happens twice is the first.

A beat that was down past several runs makes only the latest one due (the others are skipped,
not made late): `due` says which.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
FREQUENCIES = (DAILY, WEEKLY, MONTHLY)
MAX_RUNS = (2, 1000)  # a series makes at least one run beyond its first, at most this many in all
HORIZON_DAYS = 3 * 366  # an end date at most this far after the first run


@dataclass(frozen=True)
class Recurrence:
    frequency: str
    time_zone: str
    first_on: date  # run 0's day
    at: time  # local time of day each run starts
    ends_on: date | None = None  # no run after this day
    max_runs: int | None = None  # runs in all, run 0 included


def run_on(rec: Recurrence, index: int) -> date:
    """The day of run `index`."""
    first = rec.first_on
    if rec.frequency == DAILY:
        return first + timedelta(days=index)
    if rec.frequency == WEEKLY:
        return first + timedelta(weeks=index)
    months = first.month - 1 + index
    year, month = first.year + months // 12, months % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def run_at(rec: Recurrence, index: int) -> datetime:
    """The instant (UTC) run `index` starts."""
    local = datetime.combine(run_on(rec, index), rec.at, tzinfo=ZoneInfo(rec.time_zone))
    return local.astimezone(UTC)


def within_end(rec: Recurrence, index: int) -> bool:
    """Whether run `index` is part of the series (before its end)."""
    if rec.max_runs is not None and index >= rec.max_runs:
        return False
    return rec.ends_on is None or run_on(rec, index) <= rec.ends_on


@dataclass(frozen=True)
class Due:
    make: int | None  # the run to make now, or None
    skipped: tuple[int, ...]  # runs whose time passed while nothing made them
    next_index: int  # the next run not yet due
    next_at: datetime | None  # when it is due; None: the series is over


def due(rec: Recurrence, next_index: int, now: datetime) -> Due:
    """What is due at `now` for a series whose next run not yet made is `next_index`."""
    ready = []
    index = next_index
    while within_end(rec, index) and run_at(rec, index) <= now:
        ready.append(index)
        index += 1
    next_at = run_at(rec, index) if within_end(rec, index) else None
    return Due(ready[-1] if ready else None, tuple(ready[:-1]), index, next_at)


def recurrence_problems(
    *, frequency: object, time_zone: object, at: object, ends_on: object, max_runs: object, first_on: date
) -> list[tuple[str, str]]:
    """(field, why) for each setting refused: a known frequency and IANA zone, a time of day, and
    an end (a day after the first run, within HORIZON_DAYS, or a number of runs within MAX_RUNS)."""
    problems = []
    if frequency not in FREQUENCIES:
        problems.append(("frequency", f"must be one of {', '.join(FREQUENCIES)}"))
    try:
        ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("time_zone", "must be an IANA time zone such as Europe/Berlin"))
    if not isinstance(at, time):
        problems.append(("at", "must be a time of day HH:MM"))
    if ends_on is None and max_runs is None:
        problems.append(("ends_on", "or a number of runs is required: a series must end"))
    if ends_on is not None:
        if not isinstance(ends_on, date):
            problems.append(("ends_on", "must be a date YYYY-MM-DD"))
        elif ends_on <= first_on:
            problems.append(("ends_on", f"must be after the first run's day ({first_on.isoformat()})"))
        elif (ends_on - first_on).days > HORIZON_DAYS:
            problems.append(("ends_on", f"must be at most {HORIZON_DAYS} days after the first run"))
    if max_runs is not None and not (
        isinstance(max_runs, int)
        and not isinstance(max_runs, bool)
        and MAX_RUNS[0] <= max_runs <= MAX_RUNS[1]
    ):
        problems.append(("max_runs", f"must be an integer from {MAX_RUNS[0]} to {MAX_RUNS[1]}"))
    return problems
