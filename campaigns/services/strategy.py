"""The dialing strategy's rules applied to a campaign's settings: integers within their bounds, a
real time zone, a known dialing order, well-formed calling hours and retry delays, and a
callee-local window that only narrows the organization's.

The rules themselves (bounds, weekdays, HH:MM, retry outcomes, zones, Vapi's defaults) are
written once in campaigns.rules.strategy; problems are named ``strategy.<model field>``.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import DialingOrder, Organization
from campaigns.rules.strategy import (
    BOUNDS,
    FIELDS,
    HHMM_MESSAGE,
    MAX_RETRY_DELAY,
    RETRY_OUTCOMES,
    TIME_ZONES,
    VAPI_DEFAULTS,
    WEEKDAYS,
    ZONE_MESSAGE,
    bound_message,
    is_time_zone,
    parse_hhmm,
    within_bounds,
)
from campaigns.services.errors import FieldError

# What callers read from here, defined in rules.strategy.
__all__ = ["FIELDS", "TIME_ZONES", "VAPI_DEFAULTS", "ZONE_MESSAGE", "is_time_zone", "validate_strategy"]


def _name(field: str) -> str:
    return f"strategy.{field}"


def validate_strategy(values: dict[str, Any], *, organization: Organization) -> list[FieldError]:
    """Every rule the given strategy values (model field names) break, each named by its field."""
    errors: list[FieldError] = []
    for field, value in values.items():
        if field not in FIELDS:
            errors.append(FieldError(_name(field), "is not a dialing strategy setting"))
        elif field in BOUNDS and value is not None and not within_bounds(field, value):
            errors.append(FieldError(_name(field), bound_message(field)))
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
            if parse_hhmm(window[key]) is None:
                errors.append(FieldError(f"{where}.{key}", HHMM_MESSAGE))
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
    narrow_only = f"may only narrow the organization's calling hours ({floor})"
    errors = []
    if earliest < organization.recipient_earliest:
        errors.append(FieldError(_name("recipient_earliest"), narrow_only))
    if latest > organization.recipient_latest:
        errors.append(FieldError(_name("recipient_latest"), narrow_only))
    if earliest >= latest:
        # Worded as the API names the other end: its answers pass messages on verbatim.
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
