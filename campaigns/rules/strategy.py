"""The dialing strategy's rules, each written once: the settings a campaign has, their defaults
and bounds, the weekdays of calling hours, the time of day as HH:MM, the retry outcomes and
their default delays, Vapi's defaults, and the time zones accepted.

The model (defaults, CheckConstraint bounds), the services' validation, the API's serializers
(and so the OpenAPI document), the dashboard's forms and templates, and the engine's own
defaults all read them from here. Plain values only: no Django.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import available_timezones

# Every setting of a campaign's dialing strategy, by its model field name, in the order the
# API documents them.
FIELDS: tuple[str, ...] = (
    "time_zone",
    "calling_hours",
    "respect_recipient_time_zone",
    "recipient_earliest",
    "recipient_latest",
    "max_concurrent_calls",
    "calls_per_minute",
    "max_attempts",
    "retry_delays",
    "retry_voicemail",
    "max_ring_seconds",
    "max_duration_seconds",
    "dialing_order",
    "priority",
    "machine_detection",
    "capacity_wait_seconds",
    "auto_start",
)

# Inclusive bounds of the integer settings.
BOUNDS: dict[str, tuple[int, int]] = {
    "max_concurrent_calls": (1, 500),
    "calls_per_minute": (1, 100_000),
    "max_attempts": (1, 20),
    "max_ring_seconds": (15, 120),  # US rules: let it ring at least 15 s
    "max_duration_seconds": (10, 43_200),
    "priority": (1, 10),
    "capacity_wait_seconds": (60, 30 * 86_400),
}

# The retry outcomes, as the keys of a campaign's stored retry delays, with the name of each in
# the engine (rules.engine.RetryDelays), and the seconds to wait after each by default.
RETRY_OUTCOMES: dict[str, str] = {
    "busy": "busy",
    "noAnswer": "no_answer",
    "voicemail": "voicemail",
    "failed": "failed",
}
DEFAULT_RETRY_DELAYS: dict[str, int] = {"busy": 600, "noAnswer": 1800, "voicemail": 3600, "failed": 900}
MAX_RETRY_DELAY = 30 * 86_400

# What a campaign gets for a setting nobody gave (the model's defaults; unset ones are null).
DEFAULTS: dict[str, Any] = {
    "time_zone": "UTC",
    "respect_recipient_time_zone": True,
    "max_concurrent_calls": 10,
    "max_attempts": 3,
    "retry_voicemail": True,
    "max_ring_seconds": 30,
    "max_duration_seconds": 600,
    "priority": 5,
    "machine_detection": False,
    "auto_start": True,
}

# A campaign created through the Vapi surface without a dialingStrategy behaves like Vapi's:
# one attempt per customer, and customers still waiting for capacity an hour after start are dropped.
VAPI_DEFAULTS: dict[str, Any] = {"max_attempts": 1, "capacity_wait_seconds": 3600}

# The lawful callee-local window an organization starts with (US TCPA: 08:00-21:00).
RECIPIENT_WINDOW: tuple[time, time] = (time(8, 0), time(21, 0))

# Weekdays of calling hours as stored and sent ("mon"), their index (Monday is 0, as
# date.weekday()), and their names for people.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_INDEX: dict[str, int] = {day: index for index, day in enumerate(WEEKDAYS)}
WEEKDAY_NAMES: dict[str, str] = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
WEEKDAY_SHORT_NAMES: dict[str, str] = {day: name[:3] for day, name in WEEKDAY_NAMES.items()}

# A time of day: 24-hour HH:MM, 00:00 to 23:59.
HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
HHMM_MESSAGE = "must be a time as HH:MM (24-hour)"
_HHMM = re.compile(HHMM_PATTERN)


def parse_hhmm(value: object) -> time | None:
    """`value` as a time of day if it is HH:MM text (24-hour) and nothing else, else None."""
    if isinstance(value, str) and _HHMM.fullmatch(value):
        return time(int(value[:2]), int(value[3:5]))
    return None


def hhmm(value: time) -> str:
    """A time of day as HH:MM."""
    return value.strftime("%H:%M")


# Every zone name we accept, in one place: the tz database's locations (Area/Location, the
# country-named links such as US/Eastern included), UTC and Etc/*. Not what only looks like
# a zone on this machine: `localtime` (a copy of the host's /etc/localtime), `posixrules`,
# the posix/ and right/ trees, SystemV/, `Factory` (a placeholder, "-00"), and the legacy
# abbreviations (EST, CET, EST5EDT, GMT0, ...) that name rules, not places.
_NOT_ZONES = ("posix/", "right/", "SystemV/")
TIME_ZONES: frozenset[str] = frozenset(
    name
    for name in available_timezones()
    if name == "UTC" or ("/" in name and not name.startswith(_NOT_ZONES))
)
ZONE_MESSAGE = "must be an IANA time zone such as Europe/Paris"


def is_time_zone(name: object) -> bool:
    """Whether `name` is a time zone name we accept (see TIME_ZONES)."""
    return isinstance(name, str) and name in TIME_ZONES


def bound_message(field: str) -> str:
    low, high = BOUNDS[field]
    return f"must be an integer from {low} to {high}"


def within_bounds(field: str, value: object) -> bool:
    """Whether `value` is an integer (not a boolean) within the bounds of `field`."""
    low, high = BOUNDS[field]
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
