"""The one translation between the domain's names and the API's.

Services name what they were given in snake_case, as their parameters and input attributes are
named (``strategy.max_attempts``, ``dial_plan.0.phone_number_id``, ``target``); the API answers
in Vapi's camelCase (``dialingStrategy.maxAttempts``, ``dialPlan.0.phoneNumberId``,
``assistantId/workflowId/squadId``). Serializers read and write the API's names; a service's
FieldError reaches a client through `api_path`, in the one exception handler (api/errors.py).
"""

from __future__ import annotations

from campaigns.rules.strategy import FIELDS

# The dialing strategy's settings (model field names) and their keys in `dialingStrategy`.
STRATEGY_KEYS: dict[str, str] = {
    field: key
    for field, key in zip(
        FIELDS,
        (
            "timeZone",
            "callingHours",
            "respectRecipientTimeZone",
            "recipientEarliest",
            "recipientLatest",
            "maxConcurrentCalls",
            "callsPerMinute",
            "maxAttempts",
            "retryDelaySeconds",
            "retryVoicemail",
            "maxRingSeconds",
            "maxDurationSeconds",
            "dialingOrder",
            "priority",
            "machineDetection",
            "capacityWaitSeconds",
            "autoStart",
        ),
        strict=True,
    )
}
STRATEGY_FIELDS: dict[str, str] = {key: field for field, key in STRATEGY_KEYS.items()}

# The names services give their inputs, as the API calls them (one path segment each).
API_NAMES: dict[str, str] = {
    "target": "assistantId/workflowId/squadId",
    "phone_number_id": "phoneNumberId",
    "dial_plan": "dialPlan",
    "schedule": "schedulePlan",
    "earliest_at": "schedulePlan.earliestAt",
    "latest_at": "schedulePlan.latestAt",
    "strategy": "dialingStrategy",
    "provider_account": "providerAccountId",
    "base_url": "baseUrl",
    "api_key": "apiKey",
    "webhook_secret": "webhookSecret",
    # Vapi 2026's campaign fields ("server" is spelled alike: named so `server.url` stays whole).
    "assistant_overrides": "assistantOverrides",
    "squad_overrides": "squadOverrides",
    "server": "server",
    "server_messages": "serverMessages",
    "predial_plan": "predialPlan",
    "duplicate_from_id": "duplicateFromCampaignId",
    # Audiences (contact lists and segments a campaign targets).
    "contact_list_ids": "contactListIds",
    "segment_ids": "segmentIds",
    "data_schema": "dataSchema",
    "metadata_schema": "metadataSchema",
    "blackout_dates": "blackoutDates",
    "ambiguous_zones": "ambiguousZones",
    "region_rules": "regionRules",
    **STRATEGY_KEYS,
    # Outcome settings (api.serializers.outcomes), and the keys inside rules and voicemail plans.
    "outcomes": "outcome settings",
    "objective": "objective",
    "analysis_schema": "analysisSchema",
    "objective_field": "objectiveField",
    "outcome_rules": "outcomeRules",
    "hang_up_is_opt_out": "hangUpIsOptOut",
    "hang_up_opt_out_seconds": "hangUpOptOutSeconds",
    "callback_field": "callbackField",
    "max_callbacks": "maxCallbacks",
    "voicemail_plan": "voicemailPlan",
    "auto_pause_enabled": "autoPauseEnabled",
    "auto_pause_window": "autoPauseWindow",
    "auto_pause_error_rate": "autoPauseErrorRate",
    "auto_pause_consecutive": "autoPauseConsecutive",
    "inbound_mode": "inboundMode",
    "inbound_rejection_message": "inboundRejectionMessage",
    "inbound_route_do_not_call": "inboundRouteDoNotCall",
    "who": "who",
    "frequency": "frequency",
    "at": "at",
    "ends_on": "endsOn",
    "max_runs": "maxRuns",
    "when": "when",
    "then": "then",
    "outcome": "outcome",
    "ended_reason": "endedReason",
    "objective_met": "objectiveMet",
    "field": "field",
    "equals": "equals",
    "present": "present",
    "retry_in_seconds": "retryInSeconds",
    "action": "action",
    "message": "message",
    "recording_url": "recordingUrl",
    # Caller-ID pools and a caller ID's switches.
    "caller_id_pool": "callerIdPool",
    "phone_number_ids": "phoneNumberIds",
    "mode": "mode",
    "weights": "weights",
    "disabled": "disabled",
    "max_daily_calls": "maxDailyCalls",
}


def api_path(path: str) -> str:
    """A service's field path as the API names it: its leading service names and indexes
    translated, the rest kept as given (what follows is the client's own text, such as the
    keys of assistantOverrides, or a path an adapter already named: "customers.3.number",
    "line 7.number")."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part in API_NAMES:
            parts[i] = API_NAMES[part]
        elif not part.isdigit():
            break
    return ".".join(parts)
