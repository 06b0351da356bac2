"""Calls: the entries of a campaign's `calls` map (Vapi) and our call resource."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.common import OpaqueObjectField, iso
from campaigns.api.serializers.customer import CustomerSerializer
from campaigns.models import CALL_TYPES, Call, CallDirection, CallLogKind, CallStatus


@extend_schema_field(
    # Inline (wrapped), so the enum is not extracted under the name "status", which the
    # campaign's own status uses too.
    {"allOf": [{"type": "string", "enum": CallStatus.values}], "description": "Vapi's Call.status."}
)
class CallStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=CallStatus.values, **kwargs)


@extend_schema_field(
    # Inline, like the status: other components have fields named "type" with other values.
    {
        "allOf": [{"type": "string", "enum": ["outboundPhoneCall", "inboundPhoneCall"]}],
        "description": "Vapi's Call.type.",
    }
)
class CallTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=list(CALL_TYPES.values()), **kwargs)


@extend_schema_serializer(component_name="CampaignCall")
class CampaignCallSerializer(serializers.Serializer):
    """One entry of Campaign.calls, keyed by its id (a subset of Vapi's Call; unset keys absent)."""

    id = serializers.UUIDField()
    type = CallTypeField(
        required=False,
        help_text="Vapi's Call.type: `inboundPhoneCall` for a callee calling the caller ID back; "
        "absent for the campaign's own (outbound) calls.",
    )
    customer = CustomerSerializer()
    status = CallStatusField()
    endedReason = serializers.CharField(required=False, help_text="Vapi's Call.endedReason, once ended.")
    startedAt = serializers.DateTimeField(required=False)
    endedAt = serializers.DateTimeField(required=False)
    analysis = OpaqueObjectField(required=False, help_text="summary, structuredData, successEvaluation…")
    callerIdChoice = serializers.CharField(
        required=False,
        help_text="Dialdeck, with a callerIdPool: why this call's caller ID (see CampaignCallRecord).",
    )


def call_entry(call: Call, echo: dict[str, Any]) -> dict[str, Any]:
    """One entry of the campaign's `calls` map; `echo` is the customer as submitted (customer_echo).

    On PostgreSQL a truncated document's entries are written by the database instead
    (selectors.documents.CallEntry): a change here is a change there."""
    entry: dict[str, Any] = {"id": str(call.id), "customer": echo, "status": call.status}
    if call.direction == CallDirection.INBOUND:
        entry["type"] = CALL_TYPES[call.direction]
    if call.ended_reason:
        entry["endedReason"] = call.ended_reason
    if call.started_at:
        entry["startedAt"] = iso(call.started_at)
    if call.ended_at:
        entry["endedAt"] = iso(call.ended_at)
    if call.analysis:
        entry["analysis"] = call.analysis
    if call.caller_id_choice:
        entry["callerIdChoice"] = call.caller_id_choice
    return entry


@extend_schema_serializer(component_name="CallLogEntry")
class CallLogSerializer(serializers.Serializer):
    """What we asked the provider about the call, and what it answered."""

    kind = serializers.ChoiceField(choices=CallLogKind.values)
    httpStatus = serializers.IntegerField(required=False)
    summary = serializers.CharField()
    body = serializers.CharField(required=False, help_text="Truncated to 2,000 characters.")
    createdAt = serializers.DateTimeField()


@extend_schema_serializer(component_name="CampaignCallRecord")
class CallRecordSerializer(serializers.Serializer):
    """One attempt to reach one customer (Dialdeck extension). `log` only with ?include=log."""

    id = serializers.UUIDField()
    customerId = serializers.UUIDField()
    number = serializers.CharField(required=False)
    attempt = serializers.IntegerField(
        help_text="The attempt; for an inbound call, which of the customer's inbound calls it is."
    )
    direction = serializers.ChoiceField(
        choices=CallDirection.values,
        help_text="outbound: placed by the campaign; inbound: the callee called the caller ID back "
        "(never an attempt, in none of the campaign's counters).",
    )
    type = CallTypeField()
    status = CallStatusField()
    endedReason = serializers.CharField(required=False)
    providerCallId = serializers.CharField(required=False)
    createdAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(required=False)
    endedAt = serializers.DateTimeField(required=False)
    durationSeconds = serializers.FloatField(required=False)
    cost = serializers.FloatField(required=False)
    costUnit = serializers.CharField(
        required=False, help_text='What cost is in: a currency ("USD") or the provider\'s unit ("credits").'
    )
    summary = serializers.CharField(required=False)
    recordingUrl = serializers.URLField(required=False)
    structuredData = serializers.DictField(
        required=False, help_text="The structured result the voice agent extracted (Dialdeck extension)."
    )
    structuredDataValid = serializers.BooleanField(
        required=False, help_text="Whether it follows the campaign's analysisSchema."
    )
    structuredDataError = serializers.CharField(required=False, help_text="Why it does not, if not.")
    objectiveMet = serializers.BooleanField(
        required=False, help_text="What a valid result said of the objective."
    )
    phoneNumberId = serializers.UUIDField(help_text="The caller ID the call was placed from.")
    providerAccountId = serializers.UUIDField(help_text="The provider account that placed it.")
    callerIdChoice = serializers.CharField(
        required=False,
        help_text='Campaigns with a callerIdPool: why this caller ID ("area code 415", "region US-CA", '
        '"country US", "default", "pool", "same as the last call"; "split B · ..." in split mode).',
    )
    log = CallLogSerializer(many=True, required=False)

    def to_representation(self, instance: Call) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(instance.id), "customerId": str(instance.customer_id)}
        if instance.customer.number:
            data["number"] = instance.customer.number
        data["attempt"] = instance.attempt
        data["direction"], data["type"] = instance.direction, CALL_TYPES[instance.direction]
        data["status"] = instance.status
        optional = (
            ("endedReason", instance.ended_reason or None),
            ("providerCallId", instance.provider_call_id or None),
            ("createdAt", iso(instance.created_at)),
            ("startedAt", iso(instance.started_at)),
            ("endedAt", iso(instance.ended_at)),
            ("durationSeconds", instance.duration_seconds),
            ("cost", float(instance.cost) if instance.cost is not None else None),
            ("costUnit", instance.cost_unit or None),
            ("summary", instance.summary or None),
            ("recordingUrl", instance.recording_url or None),
            ("structuredData", instance.structured_data),
            ("structuredDataValid", instance.structured_data_valid),
            ("structuredDataError", instance.structured_data_error or None),
            ("objectiveMet", instance.objective_met),
            ("phoneNumberId", str(instance.phone_number_id)),
            ("providerAccountId", str(instance.provider_account_id)),
            ("callerIdChoice", instance.caller_id_choice or None),
        )
        data.update((key, value) for key, value in optional if value is not None)
        if self.context.get("include_log"):
            data["log"] = [_log_entry(entry) for entry in instance.log.all()]
        return data


def _log_entry(entry) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": entry.kind}
    if entry.http_status is not None:
        data["httpStatus"] = entry.http_status
    data["summary"] = entry.summary
    if entry.body:
        data["body"] = entry.body
    data["createdAt"] = iso(entry.created_at)
    return data
