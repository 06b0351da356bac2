"""The dialing strategy: its fields, Vapi's defaults, and the rules its values must keep."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

from campaigns.models import DialingOrder, Organization
from campaigns.services.errors import FieldError, ValidationFailed

# Model field -> key inside the API's `dialingStrategy` object.
STRATEGY_FIELDS: dict[str, str] = {
    "time_zone": "timeZone",
    "calling_hours": "callingHours",
    "respect_recipient_time_zone": "respectRecipientTimeZone",
    "recipient_earliest": "recipientEarliest",
    "recipient_latest": "recipientLatest",
    "max_concurrent_calls": "maxConcurrentCalls",
    "calls_per_minute": "callsPerMinute",
    "max_attempts": "maxAttempts",
    "retry_delays": "retryDelaySeconds",
    "retry_voicemail": "retryVoicemail",
    "max_ring_seconds": "maxRingSeconds",
    "max_duration_seconds": "maxDurationSeconds",
    "dialing_order": "dialingOrder",
    "priority": "priority",
    "machine_detection": "machineDetection",
    "capacity_wait_seconds": "capacityWaitSeconds",
    "auto_start": "autoStart",
}

# A campaign created through the Vapi surface without a dialingStrategy behaves like Vapi's:
# one attempt per customer, and customers still waiting for capacity an hour after start are dropped.
VAPI_DEFAULTS: dict[str, Any] = {"max_attempts": 1, "capacity_wait_seconds": 3600}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RETRY_OUTCOMES = ("busy", "noAnswer", "voicemail", "failed")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
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


BOUNDS: dict[str, tuple[int, int]] = {
    "max_concurrent_calls": (1, 500),
    "calls_per_minute": (1, 100_000),
    "max_attempts": (1, 20),
    "max_ring_seconds": (15, 120),  # US rules: let it ring at least 15 s
    "max_duration_seconds": (10, 43_200),
    "priority": (1, 10),
    "capacity_wait_seconds": (60, 30 * 86_400),
}
MAX_RETRY_DELAY = 30 * 86_400


def _name(field: str) -> str:
    return f"dialingStrategy.{STRATEGY_FIELDS[field]}"


def validate_strategy(values: dict[str, Any], *, organization: Organization) -> list[FieldError]:
    """Every rule the given strategy values break, named by their API path."""
    errors: list[FieldError] = []
    for field, value in values.items():
        if field not in STRATEGY_FIELDS:
            errors.append(FieldError(f"dialingStrategy.{field}", "is not a dialing strategy setting"))
        elif field in BOUNDS and value is not None:
            low, high = BOUNDS[field]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors.append(FieldError(_name(field), f"must be an integer from {low} to {high}"))
    if "time_zone" in values and not is_time_zone(values["time_zone"]):
        errors.append(FieldError(_name("time_zone"), ZONE_MESSAGE))
    if "dialing_order" in values and values["dialing_order"] not in DialingOrder.values:
        errors.append(FieldError(_name("dialing_order"), f"must be one of {', '.join(DialingOrder.values)}"))
    errors += _calling_hours_errors(values.get("calling_hours", []))
    errors += _retry_delay_errors(values.get("retry_delays"))
    errors += _recipient_window_errors(values, organization)
    return errors


def _calling_hours_errors(windows: Any) -> list[FieldError]:
    field = _name("calling_hours")
    if not isinstance(windows, list):
        return [FieldError(field, "must be a list of {day, start, end} windows")]
    errors = []
    for i, window in enumerate(windows):
        where = f"{field}.{i}"
        if not isinstance(window, dict) or set(window) != {"day", "start", "end"}:
            errors.append(FieldError(where, "must have exactly day, start and end"))
            continue
        if window["day"] not in WEEKDAYS:
            errors.append(FieldError(f"{where}.day", f"must be one of {', '.join(WEEKDAYS)}"))
        for key in ("start", "end"):
            if not isinstance(window[key], str) or not _HHMM.match(window[key]):
                errors.append(FieldError(f"{where}.{key}", "must be a time as HH:MM (24-hour)"))
    return errors


def _retry_delay_errors(delays: Any) -> list[FieldError]:
    if delays is None:
        return []
    field = _name("retry_delays")
    if not isinstance(delays, dict):
        return [FieldError(field, f"must be an object with {', '.join(RETRY_OUTCOMES)}")]
    errors = [
        FieldError(f"{field}.{key}", "is not an outcome") for key in delays if key not in RETRY_OUTCOMES
    ]
    for key in RETRY_OUTCOMES:
        value = delays.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_RETRY_DELAY:
            errors.append(
                FieldError(f"{field}.{key}", f"must be a number of seconds from 0 to {MAX_RETRY_DELAY}")
            )
    return errors


def _recipient_window_errors(values: dict[str, Any], organization: Organization) -> list[FieldError]:
    """A campaign may only narrow the organization's callee-local window, and turn it off only
    where an admin of the organization allowed it (Organization.allow_ignoring_recipient_time)."""
    earliest = values.get("recipient_earliest") or organization.recipient_earliest
    latest = values.get("recipient_latest") or organization.recipient_latest
    floor = f"{organization.recipient_earliest:%H:%M}–{organization.recipient_latest:%H:%M}"
    errors = []
    if earliest < organization.recipient_earliest:
        errors.append(
            FieldError(
                _name("recipient_earliest"), f"may only narrow the organization's calling hours ({floor})"
            )
        )
    if latest > organization.recipient_latest:
        errors.append(
            FieldError(
                _name("recipient_latest"), f"may only narrow the organization's calling hours ({floor})"
            )
        )
    if earliest >= latest:
        errors.append(FieldError(_name("recipient_latest"), "must be later than recipientEarliest"))
    if values.get("respect_recipient_time_zone") is False and not organization.allow_ignoring_recipient_time:
        errors.append(
            FieldError(
                _name("respect_recipient_time_zone"),
                f"may only be false where an admin of the organization allows campaigns to ignore "
                f"the callee's local time ({floor}) in the organization settings",
            )
        )
    return errors


def strategy_check(values: dict[str, Any], *, organization: Organization) -> None:
    errors = validate_strategy(values, organization=organization)
    if errors:
        raise ValidationFailed(errors)
