"""`dialingStrategy`: Dialdeck's optional extension object on a campaign.

The serializer checks each key's JSON type; the rules that need more (bounds, zones, dialing
orders, calling-hour windows and retry delays, the organization's floor for recipient-local
hours) are the service's (campaigns.services.strategy), and the document shows them from the
same definitions (campaigns.rules.strategy).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.names import STRATEGY_FIELDS, STRATEGY_KEYS
from campaigns.api.serializers.fields import (
    Array,
    Boolean,
    DocumentedBounds,
    DocumentedChoice,
    DocumentedText,
    Object,
    TimeOfDay,
)
from campaigns.api.serializers.request import MISSING, RequestSerializer
from campaigns.models import Campaign, DialingOrder
from campaigns.rules.strategy import (
    BOUNDS,
    HHMM_PATTERN,
    MAX_RETRY_DELAY,
    RECIPIENT_WINDOW,
    RETRY_OUTCOMES,
    WEEKDAYS,
    hhmm,
)


def strategy_out(campaign: Campaign) -> dict[str, Any]:
    """The campaign's dialing strategy as the API shows it; unset (null) settings left out."""
    data = {}
    for field, key in STRATEGY_KEYS.items():
        value = getattr(campaign, field)
        if value is None:
            continue
        data[key] = hhmm(value) if isinstance(value, time) else value
    return data


# The shapes services.strategy checks inside callingHours and retryDelaySeconds, as documented.
# (No docstrings: a docstring would become the components' description.)


class CallingWindowSerializer(serializers.Serializer):
    day = serializers.ChoiceField(choices=WEEKDAYS)
    start = serializers.RegexField(HHMM_PATTERN, help_text="HH:MM, campaign time zone.")
    end = serializers.RegexField(HHMM_PATTERN, help_text="HH:MM; before start = overnight.")


class RetryDelaysSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            outcome: serializers.IntegerField(min_value=0, max_value=MAX_RETRY_DELAY)
            for outcome in RETRY_OUTCOMES
        }


def _bounded(field: str, help_text: str, **kwargs: Any) -> DocumentedBounds:
    low, high = BOUNDS[field]
    return DocumentedBounds(required=False, min_value=low, max_value=high, help_text=help_text, **kwargs)


@extend_schema_serializer(component_name="DialingStrategy")
class DialingStrategySerializer(RequestSerializer):
    """Dialdeck extension: how the campaign dials. Optional on create (absent: Vapi's behaviour,
    one attempt per customer and customers still waiting for capacity an hour after start are
    dropped; present: Dialdeck's defaults for every key left out). Editable while the campaign is
    scheduled or paused. Unknown keys are refused. Responses leave out settings that are unset."""

    # null unsets a setting that may be unset (allow_null), and is a wrong value for the others.
    null_is_absent = False

    timeZone = DocumentedText(required=False, help_text="IANA zone of callingHours, e.g. Europe/Paris.")
    callingHours = Array(
        child=CallingWindowSerializer(), required=False, help_text="Weekly windows; empty: any time."
    )
    respectRecipientTimeZone = Boolean(
        required=False,
        help_text="Call only within recipientEarliest–recipientLatest in the callee's own zone.",
    )
    recipientEarliest = TimeOfDay(
        required=False,
        allow_null=True,
        help_text=f"HH:MM; may only narrow the organization's floor (default {hhmm(RECIPIENT_WINDOW[0])}).",
    )
    recipientLatest = TimeOfDay(
        required=False,
        allow_null=True,
        help_text=f"HH:MM; may only narrow the organization's floor (default {hhmm(RECIPIENT_WINDOW[1])}).",
    )
    maxConcurrentCalls = _bounded("max_concurrent_calls", "Calls in flight at once (Vapi: maxConcurrency).")
    callsPerMinute = _bounded("calls_per_minute", "Pacing; null: no limit.", allow_null=True)
    maxAttempts = _bounded("max_attempts", "Calls per customer at most.")
    retryDelaySeconds = Object(
        shape=RetryDelaysSerializer(), required=False, help_text="Wait before calling again, by outcome."
    )
    retryVoicemail = Boolean(required=False, help_text="Whether voicemail counts as retryable.")
    maxRingSeconds = _bounded("max_ring_seconds", "Give up ringing after this long.")
    maxDurationSeconds = _bounded("max_duration_seconds", "Longest call.")
    dialingOrder = DocumentedChoice(choices=DialingOrder.values, required=False)
    priority = _bounded(
        "priority",
        "{} (low) to {} (high), among the organization's campaigns.".format(*BOUNDS["priority"]),
    )
    machineDetection = Boolean(required=False)
    capacityWaitSeconds = _bounded(
        "capacity_wait_seconds",
        "Customers never dialed this long after start are dropped (Vapi: one hour); null: never.",
        allow_null=True,
    )
    autoStart = Boolean(
        required=False,
        help_text="Start by itself at schedulePlan.earliestAt (or at once); false: wait for start.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """The settings given, by model field name; keys are read in the order they were sent."""
        problems, data = self.begin(data)
        values = {}
        for key in data:
            if key in self.fields:
                value = self.take(data, key, problems)
                if value is not MISSING:
                    values[STRATEGY_FIELDS[key]] = value
        problems.raise_any()
        return values
