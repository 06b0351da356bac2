"""Dialdeck's outcome settings on a campaign (all optional, a Vapi client never sends them):
`objective`, `analysisSchema`, `objectiveField`, `outcomeRules`, `hangUpIsOptOut`,
`hangUpOptOutSeconds`, `callbackField`, `maxCallbacks`, `voicemailPlan`, the automatic pause's,
and callbacks from callees: `inboundMode`, `inboundRejectionMessage`, `inboundRouteDoNotCall`.

Each field checks its JSON type here; the rules (a JSON Schema 2020-12 of an object, rules and
their fields against it, bounds) are the service's (services.outcome_settings), whose errors
come back named in these words (api.names). Rules and the voicemail plan are translated between
the API's camelCase and the stored snake_case here and only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.api.serializers.fields import Boolean, Choice, Integer, Object, Text
from campaigns.api.serializers.request import MISSING, Problems, RequestSerializer
from campaigns.models import Campaign
from campaigns.rules.analysis import OBJECTIVE_FIELD, OBJECTIVE_LENGTH
from campaigns.rules.autopause import BOUNDS as AUTO_PAUSE_BOUNDS
from campaigns.rules.autopause import DEFAULTS as AUTO_PAUSE
from campaigns.rules.inbound import DEFAULT_MODE as INBOUND_DEFAULT_MODE
from campaigns.rules.inbound import MESSAGE_LENGTH as INBOUND_MESSAGE_LENGTH
from campaigns.rules.inbound import MODES as INBOUND_MODES
from campaigns.rules.outcome_plan import (
    ACTIONS,
    CALLBACK_BOUNDS,
    CALLBACK_FIELD,
    HANG_UP_BOUNDS,
    HANG_UP_SECONDS,
    MAX_CALLBACKS,
    MAX_RULES,
    OUTCOMES,
    RETRY_BOUNDS,
    VOICEMAIL_ACTIONS,
    VOICEMAIL_THEN,
)

# API key -> model field.
OUTCOME_KEYS = {
    "objective": "objective",
    "analysisSchema": "analysis_schema",
    "objectiveField": "objective_field",
    "outcomeRules": "outcome_rules",
    "hangUpIsOptOut": "hang_up_is_opt_out",
    "hangUpOptOutSeconds": "hang_up_opt_out_seconds",
    "callbackField": "callback_field",
    "maxCallbacks": "max_callbacks",
    "voicemailPlan": "voicemail_plan",
    "autoPauseEnabled": "auto_pause_enabled",
    "autoPauseWindow": "auto_pause_window",
    "autoPauseErrorRate": "auto_pause_error_rate",
    "autoPauseConsecutive": "auto_pause_consecutive",
    "inboundMode": "inbound_mode",
    "inboundRejectionMessage": "inbound_rejection_message",
    "inboundRouteDoNotCall": "inbound_route_do_not_call",
}
# Keys inside a rule and a voicemail plan: API -> stored.
INNER_KEYS = {
    "endedReason": "ended_reason",
    "objectiveMet": "objective_met",
    "retryInSeconds": "retry_in_seconds",
    "maxAttempts": "max_attempts",
    "recordingUrl": "recording_url",
}
STORED_KEYS = {stored: key for key, stored in INNER_KEYS.items()}

RULE_DOC = {
    "type": "object",
    "description": "One outcome rule: when all of `when`'s conditions hold for an ended call, `then`. "
    "The campaign's rules are read in order, the first that matches decides; after them come the "
    "defaults (a callback the result asks for, then retry by outcome as dialingStrategy says).",
    "properties": {
        "when": {
            "type": "object",
            "properties": {
                "outcome": {"type": "string", "enum": list(OUTCOMES)},
                "endedReason": {"type": "string"},
                "objectiveMet": {"type": "boolean"},
                "field": {"type": "string", "description": "A field of the structured result (a.b)."},
                "equals": {"description": "Any JSON value (true is not 1)."},
                "present": {"type": "boolean"},
            },
        },
        "then": {"type": "string", "enum": list(ACTIONS)},
        "retryInSeconds": {"type": "integer", "minimum": RETRY_BOUNDS[0], "maximum": RETRY_BOUNDS[1]},
        "maxAttempts": {"type": "integer", "minimum": 1, "maximum": 20},
    },
    "required": ["then"],
}
VOICEMAIL_DOC = {
    "type": "object",
    "description": "What the agent does on an answering machine: hang up, or leave a message (text to "
    "say, or a recording's URL); then the customer is done, or retried as dialingStrategy says. "
    "Sent to Vapi as voicemailDetection and voicemailMessage.",
    "properties": {
        "action": {"type": "string", "enum": list(VOICEMAIL_ACTIONS)},
        "message": {"type": "string"},
        "recordingUrl": {"type": "string", "format": "uri"},
        "then": {"type": "string", "enum": list(VOICEMAIL_THEN)},
    },
    "required": ["action", "then"],
}


def _stored(value: Any) -> Any:
    """API keys of a rule or plan as stored (values, such as `equals`, kept as given)."""
    if isinstance(value, list):
        return [_stored(v) for v in value]
    if isinstance(value, Mapping):
        return {
            INNER_KEYS.get(k, k): (_stored(v) if k in ("when",) or isinstance(v, list) else v)
            for k, v in value.items()
        }
    return value


def _shown(value: Any) -> Any:
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, Mapping):
        return {STORED_KEYS.get(k, k): (_shown(v) if k == "when" else v) for k, v in value.items()}
    return value


@extend_schema_field({"type": "array", "items": RULE_DOC, "maxItems": MAX_RULES})
class OutcomeRules(serializers.JSONField):
    default_error_messages = {"invalid": "must be an array of rules"}

    def to_internal_value(self, data: Any) -> list:
        if not isinstance(data, list):
            self.fail("invalid")
        return _stored(data)


class OutcomeSettings(RequestSerializer):
    """The outcome settings' fields, shared by the create and update bodies."""

    objective = Text(
        required=False,
        allow_blank=True,
        max_length=OBJECTIVE_LENGTH,
        help_text="What a call is for, in words: sent to the voice agent as the prompt of its analysis.",
    )
    analysisSchema = Object(
        required=False,
        help_text="A JSON Schema (2020-12) of an object: the structured result the agent extracts from "
        "each call (Vapi: analysisPlan.structuredDataSchema). Each result is checked against it; one "
        "that does not follow it is stored with why, and never drives a rule. PATCH with null clears it "
        "(refused while outcomeRules or objectiveField still name its fields).",
    )
    objectiveField = Text(
        required=False,
        allow_blank=True,
        max_length=260,
        help_text=f"The boolean property of the result: the objective was met (default {OBJECTIVE_FIELD}).",
    )
    outcomeRules = OutcomeRules(required=False)
    hangUpIsOptOut = Boolean(
        required=False, help_text="A callee who hangs up within hangUpOptOutSeconds of answering opts out."
    )
    hangUpOptOutSeconds = Integer(required=False, min_value=HANG_UP_BOUNDS[0], max_value=HANG_UP_BOUNDS[1])
    callbackField = Text(
        required=False,
        allow_blank=True,
        max_length=260,
        help_text=f"The property of the result with the callback time asked for (default {CALLBACK_FIELD}): "
        "ISO 8601, in the callee's own zone when it has no offset.",
    )
    maxCallbacks = Integer(
        required=False,
        min_value=CALLBACK_BOUNDS[0],
        max_value=CALLBACK_BOUNDS[1],
        help_text="Callbacks per customer, beyond maxAttempts (default 2).",
    )
    voicemailPlan = Object(required=False, shape=VOICEMAIL_DOC)
    autoPauseEnabled = Boolean(
        required=False,
        help_text="Pause the campaign by itself when its provider fails too often (default true): "
        "autoPauseErrorRate percent of the last autoPauseWindow ended calls, or autoPauseConsecutive "
        "calls in a row, ended with a provider failure. The reason is shown as pausedReason.",
    )
    autoPauseWindow = Integer(
        required=False,
        min_value=AUTO_PAUSE_BOUNDS["window"][0],
        max_value=AUTO_PAUSE_BOUNDS["window"][1],
        help_text=f"Ended calls the error rate is read over (default {AUTO_PAUSE['window']}).",
    )
    autoPauseErrorRate = Integer(
        required=False,
        min_value=AUTO_PAUSE_BOUNDS["error_rate"][0],
        max_value=AUTO_PAUSE_BOUNDS["error_rate"][1],
        help_text=f"Percent of provider failures that pauses (default {AUTO_PAUSE['error_rate']}).",
    )
    autoPauseConsecutive = Integer(
        required=False,
        min_value=AUTO_PAUSE_BOUNDS["consecutive"][0],
        max_value=AUTO_PAUSE_BOUNDS["consecutive"][1],
        help_text=f"Provider failures in a row that pause (default {AUTO_PAUSE['consecutive']}).",
    )
    inboundMode = Choice(
        list(INBOUND_MODES),
        required=False,
        help_text="A callee who calls the campaign's caller ID back (recognised by number: the most "
        "recent campaign that called them from it within 30 days, running, paused or ended within 30 "
        "days): `reject` (default: inboundRejectionMessage is said, then the call hangs up) or `route` "
        "(to the campaign's agent, with the customer's name, variables and last outcome as variables). "
        "The call is stored as the customer's, `direction: inbound`; it spends no attempt and is in "
        "none of the campaign's counters.",
    )
    inboundRejectionMessage = Text(
        required=False,
        allow_blank=True,
        max_length=INBOUND_MESSAGE_LENGTH,
        help_text="Said to a callee whose call is rejected; empty: rejected at once (busy).",
    )
    inboundRouteDoNotCall = Boolean(
        required=False,
        help_text="Route callers on the do-not-call list too (default false: they are rejected with "
        "inboundRejectionMessage, even when inboundMode is route).",
    )


# Settings a PATCH clears with an explicit null (elsewhere null is absent, as Vapi reads it).
CLEARABLE = ("analysisSchema", "voicemailPlan")


def outcome_values(
    serializer: RequestSerializer, data: Mapping, problems: Problems, *, clearable: bool = False
) -> dict[str, Any]:
    """The outcome settings a body gives, by model field name; with `clearable` (PATCH),
    `"analysisSchema": null` and `"voicemailPlan": null` clear those settings."""
    values: dict[str, Any] = {}
    for key in CLEARABLE if clearable else ():
        if key in data and data[key] is None:
            values[OUTCOME_KEYS[key]] = None
    for key, field in OUTCOME_KEYS.items():
        if field in values:
            continue
        value = serializer.take(data, key, problems)
        if value is not MISSING:
            values[field] = _stored(value) if key == "voicemailPlan" else value
    return values


# Settings left at these are not shown: a campaign that uses none of them reads as Vapi's.
UNSHOWN = {
    "hangUpIsOptOut": False,
    "hangUpOptOutSeconds": HANG_UP_SECONDS,
    "maxCallbacks": MAX_CALLBACKS,
    "autoPauseEnabled": True,
    "autoPauseWindow": AUTO_PAUSE["window"],
    "autoPauseErrorRate": AUTO_PAUSE["error_rate"],
    "autoPauseConsecutive": AUTO_PAUSE["consecutive"],
    "inboundMode": INBOUND_DEFAULT_MODE,
    "inboundRouteDoNotCall": False,
}


def outcomes_out(campaign: Campaign) -> dict[str, Any]:
    """The campaign's outcome settings as the API shows them; unset or default ones left out."""
    data: dict[str, Any] = {}
    for key, field in OUTCOME_KEYS.items():
        value = getattr(campaign, field)
        if value is None or value in ("", []) or (key in UNSHOWN and value == UNSHOWN[key]):
            continue
        data[key] = _shown(value) if key in ("outcomeRules", "voicemailPlan") else value
    return data


def with_outcome_settings(serializer: type[RequestSerializer]) -> type[RequestSerializer]:
    """`serializer` with the outcome settings' fields after its own (so the document lists
    Vapi's fields first); DRF copies declared fields per instance, so sharing them is safe."""
    serializer._declared_fields.update(OutcomeSettings._declared_fields)
    return serializer
