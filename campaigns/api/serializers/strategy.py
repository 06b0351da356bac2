"""`dialingStrategy`: Dialdeck's optional extension object on a campaign.

Types are checked here; the rules (bounds, zones, calling-hour windows, the
organization's floor for recipient-local hours) are the service's
(campaigns.services.strategy), which names problems ``dialingStrategy.<key>``.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.reading import Reader, as_integer, join, parse_hhmm
from campaigns.models import Campaign, DialingOrder
from campaigns.services import FieldError
from campaigns.services.strategy import BOUNDS, MAX_RETRY_DELAY, STRATEGY_FIELDS, WEEKDAYS

FIELD_FOR_KEY = {key: field for field, key in STRATEGY_FIELDS.items()}
# The JSON type each key takes; the model fields that may be null take null too.
KINDS: dict[str, str] = {
    "timeZone": "string",
    "callingHours": "array",
    "respectRecipientTimeZone": "boolean",
    "recipientEarliest": "hh:mm",
    "recipientLatest": "hh:mm",
    "maxConcurrentCalls": "integer",
    "callsPerMinute": "integer",
    "maxAttempts": "integer",
    "retryDelaySeconds": "object",
    "retryVoicemail": "boolean",
    "maxRingSeconds": "integer",
    "maxDurationSeconds": "integer",
    "dialingOrder": "string",
    "priority": "integer",
    "machineDetection": "boolean",
    "capacityWaitSeconds": "integer",
    "autoStart": "boolean",
}
NULLABLE = {key for key, field in FIELD_FOR_KEY.items() if Campaign._meta.get_field(field).null}
_MESSAGES = {
    "string": "must be a string",
    "array": "must be an array",
    "boolean": "must be a boolean value",
    "integer": "must be an integer number",
    "object": "must be an object",
    "hh:mm": "must be a time as HH:MM (24-hour)",
}


def read_strategy(reader: Reader, key: str = "dialingStrategy") -> dict[str, Any] | None:
    """The model-field values of a `dialingStrategy` object, type-checked; None when absent."""
    value = reader.data.get(key)
    if value is None:
        return None
    inner = Reader(value, reader.name(key), reader.errors, KINDS)
    values: dict[str, Any] = {}
    for name, raw in inner.data.items():
        if name not in KINDS:
            continue
        converted = _convert(KINDS[name], raw, nullable=name in NULLABLE)
        if converted is _INVALID:
            reader.errors.append(FieldError(join(inner.path, name), _MESSAGES[KINDS[name]]))
        else:
            values[FIELD_FOR_KEY[name]] = converted
    return values


_INVALID = object()


def _convert(kind: str, value: Any, *, nullable: bool) -> Any:
    if value is None:
        return None if nullable else _INVALID
    if kind == "integer":
        number = as_integer(value)
        return _INVALID if number is None else number
    if kind == "hh:mm":
        parsed = parse_hhmm(value)
        return _INVALID if parsed is None else parsed
    expected = {"string": str, "array": list, "boolean": bool, "object": dict}[kind]
    return value if isinstance(value, expected) else _INVALID


def strategy_out(campaign: Campaign) -> dict[str, Any]:
    """The campaign's dialing strategy as the API shows it; unset (null) settings left out."""
    data = {}
    for field, key in STRATEGY_FIELDS.items():
        value = getattr(campaign, field)
        if value is None:
            continue
        data[key] = value.strftime("%H:%M") if isinstance(value, time) else value
    return data


class CallingWindowSerializer(serializers.Serializer):
    day = serializers.ChoiceField(choices=WEEKDAYS)
    start = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$", help_text="HH:MM, campaign time zone.")
    end = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$", help_text="HH:MM; before start = overnight.")


class RetryDelaysSerializer(serializers.Serializer):
    busy = serializers.IntegerField(min_value=0, max_value=MAX_RETRY_DELAY)
    noAnswer = serializers.IntegerField(min_value=0, max_value=MAX_RETRY_DELAY)
    voicemail = serializers.IntegerField(min_value=0, max_value=MAX_RETRY_DELAY)
    failed = serializers.IntegerField(min_value=0, max_value=MAX_RETRY_DELAY)


def _bounded(field: str, help_text: str, **kwargs: Any) -> serializers.IntegerField:
    low, high = BOUNDS[field]
    return serializers.IntegerField(
        required=False, min_value=low, max_value=high, help_text=help_text, **kwargs
    )


@extend_schema_serializer(component_name="DialingStrategy")
class DialingStrategySerializer(serializers.Serializer):
    """Dialdeck extension: how the campaign dials. Optional on create (absent: Vapi's behaviour,
    one attempt per customer and customers still waiting for capacity an hour after start are
    dropped; present: Dialdeck's defaults for every key left out). Editable while the campaign is
    scheduled or paused. Unknown keys are refused. Responses leave out settings that are unset."""

    timeZone = serializers.CharField(
        required=False, help_text="IANA zone of callingHours, e.g. Europe/Paris."
    )
    callingHours = CallingWindowSerializer(
        many=True, required=False, help_text="Weekly windows; empty: any time."
    )
    respectRecipientTimeZone = serializers.BooleanField(
        required=False,
        help_text="Call only within recipientEarliest–recipientLatest in the callee's own zone.",
    )
    recipientEarliest = serializers.RegexField(
        r"^([01]\d|2[0-3]):[0-5]\d$",
        required=False,
        allow_null=True,
        help_text="HH:MM; may only narrow the organization's floor (default 08:00).",
    )
    recipientLatest = serializers.RegexField(
        r"^([01]\d|2[0-3]):[0-5]\d$",
        required=False,
        allow_null=True,
        help_text="HH:MM; may only narrow the organization's floor (default 21:00).",
    )
    maxConcurrentCalls = _bounded("max_concurrent_calls", "Calls in flight at once (Vapi: maxConcurrency).")
    callsPerMinute = _bounded("calls_per_minute", "Pacing; null: no limit.", allow_null=True)
    maxAttempts = _bounded("max_attempts", "Calls per customer at most.")
    retryDelaySeconds = RetryDelaysSerializer(
        required=False, help_text="Wait before calling again, by outcome."
    )
    retryVoicemail = serializers.BooleanField(
        required=False, help_text="Whether voicemail counts as retryable."
    )
    maxRingSeconds = _bounded("max_ring_seconds", "Give up ringing after this long.")
    maxDurationSeconds = _bounded("max_duration_seconds", "Longest call.")
    dialingOrder = serializers.ChoiceField(choices=DialingOrder.values, required=False)
    priority = _bounded("priority", "1 (low) to 10 (high), among the organization's campaigns.")
    machineDetection = serializers.BooleanField(required=False)
    capacityWaitSeconds = _bounded(
        "capacity_wait_seconds",
        "Customers never dialed this long after start are dropped (Vapi: one hour); null: never.",
        allow_null=True,
    )
    autoStart = serializers.BooleanField(
        required=False,
        help_text="Start by itself at schedulePlan.earliestAt (or at once); false: wait for start.",
    )
