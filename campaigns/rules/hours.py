"""Weekly calling windows in local wall-clock time, turned into UTC intervals.

A window is open while the local clock reads a time in [start, end), taking
each reading once:

- spring forward: a start (or end) inside the skipped hour falls on the
  instant the clock jumps past it; a window lying wholly inside the skipped
  hour is empty that day;
- fall back: the repeated hour counts once. The window is open on the first
  pass and closed on the second, then carries on where it left off, so
  `01:00-02:00` lasts one real hour that night, not two and not none, and
  `22:00-06:00` pauses while the clock repeats 01:00-02:00.

Pure functions; every datetime in and out is timezone-aware, results in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]  # [start, end) in UTC

# Two weeks and a day: every weekday comes round twice, so a window that a DST
# gap emptied this week still opens next week.
OPENING_HORIZON = timedelta(days=15)


@dataclass(frozen=True)
class Window:
    """One weekly calling window in the campaign time zone.

    `weekday` is the day the window starts (0=Monday..6=Sunday). `end <= start`
    crosses midnight into the next day; `start == end` is 24 hours.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times and must be naive")


def aware_utc(value: datetime, name: str = "datetime") -> datetime:
    """`value` in UTC; raises ValueError when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


@lru_cache(maxsize=64)
def every_day(start: time, end: time) -> tuple[Window, ...]:
    """The same window on each of the seven weekdays."""
    return tuple(Window(weekday, start, end) for weekday in range(7))


def is_open(windows: Sequence[Window], tz: str, at: datetime) -> bool:
    """Whether `at` lies inside one of the weekly windows; no windows means always open."""
    at = aware_utc(at, "at")
    if not windows:
        return True
    return any(start <= at < end for start, end in intervals(windows, tz, at, at + timedelta(microseconds=1)))


def next_opening(windows: Sequence[Window], tz: str, after: datetime) -> datetime | None:
    """Earliest instant at or after `after` when the windows are open (`after` if open now).

    No windows means always open. None when nothing opens within OPENING_HORIZON,
    which only happens when every window is empty.
    """
    after = aware_utc(after, "after")
    if not windows:
        return after
    for start, end in intervals(windows, tz, after, after + OPENING_HORIZON):
        if end > after:
            return max(start, after)
    return None


def intervals(windows: Sequence[Window], tz: str, low: datetime, high: datetime) -> list[Interval]:
    """Window instances overlapping [low, high), in UTC, sorted, touching ones merged."""
    zone = ZoneInfo(tz)
    # A window can start up to a day (25 hours on a fall-back day) before it ends.
    day = low.astimezone(zone).date() - timedelta(days=2)
    last = high.astimezone(zone).date()
    found = []
    while day <= last:
        for window in windows:
            if window.weekday != day.weekday():
                continue
            start = _first_reading(day, window.start, zone)
            end_day = day if window.end > window.start else day + timedelta(days=1)
            end = _first_reading(end_day, window.end, zone)
            for piece_start, piece_end in _first_pass(start, end, zone):
                if piece_start < piece_end and piece_end > low and piece_start < high:
                    found.append((piece_start, piece_end))
        day += timedelta(days=1)
    return _merge(found)


def day_start(at: datetime, tz: str) -> datetime:
    """The first instant (UTC) of the local day in `tz` that holds `at`: where a "per day" cap
    starts counting. A midnight skipped by a DST jump starts the day when the clock passes it."""
    zone = ZoneInfo(tz)
    return _first_reading(aware_utc(at).astimezone(zone).date(), time(), zone)


def days_except(blackout: frozenset[date], tz: str, low: datetime, high: datetime) -> list[Interval]:
    """Whole local days of `tz` overlapping [low, high), in UTC, except the `blackout` dates."""
    zone = ZoneInfo(tz)
    day = low.astimezone(zone).date() - timedelta(days=1)
    last = high.astimezone(zone).date()
    found = []
    while day <= last:
        if day not in blackout:
            start = _first_reading(day, time(0), zone)
            end = _first_reading(day + timedelta(days=1), time(0), zone)
            if end > low and start < high:
                found.append((start, end))
        day += timedelta(days=1)
    return _merge(found)


def first_common_instant(
    interval_sets: Iterable[list[Interval]], low: datetime, high: datetime
) -> datetime | None:
    """Earliest instant in [low, high) inside every set of sorted intervals; None if none.

    No sets at all means no constraint: `low`.
    """
    interval_sets = list(interval_sets)
    candidate = low
    while candidate < high:
        moved = False
        for found in interval_sets:
            inside = next((max(start, candidate) for start, end in found if end > candidate), None)
            if inside is None:
                return None
            if inside > candidate:
                candidate, moved = inside, True
        if not moved:
            return candidate
    return None


def _first_reading(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """First UTC instant at which the local clock on `day` reads `wall` or later."""
    local = datetime.combine(day, wall)
    earliest = local.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first of a repeated time
    if earliest.astimezone(zone).replace(tzinfo=None) == local:
        return earliest
    # `local` is skipped by a spring-forward jump; its two readings (offsets
    # from before and after the jump) bracket the jump, where the clock passes it.
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _transition(min(earliest, other), max(earliest, other), zone)


def _first_pass(start: datetime, end: datetime, zone: ZoneInfo) -> list[Interval]:
    """[start, end) without the clock's second pass through a repeated hour."""
    if start >= end:
        return []
    setback = start.astimezone(zone).utcoffset() - end.astimezone(zone).utcoffset()
    if setback <= timedelta(0):
        return [(start, end)]
    repeat_from = _transition(start, end, zone)
    return [(start, repeat_from), (repeat_from + setback, end)]


def _transition(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (low, high] where the UTC offset changes to high's.

    Bisects on whole seconds, where tz database transitions fall.
    """
    target = high.astimezone(zone).utcoffset()
    low = low.replace(microsecond=0)
    below, above = 0, int((high - low).total_seconds())
    while above - below > 1:
        middle = (below + above) // 2
        if (low + timedelta(seconds=middle)).astimezone(zone).utcoffset() == target:
            above = middle
        else:
            below = middle
    return low + timedelta(seconds=above)


def _merge(found: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
