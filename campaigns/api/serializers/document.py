"""The Campaign document: Vapi's Campaign, as every /campaign endpoint answers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.call import CampaignCallSerializer, call_entry
from campaigns.api.serializers.campaign import DialPlanEntrySerializer, SchedulePlanSerializer
from campaigns.api.serializers.common import iso, paginated
from campaigns.api.serializers.customer import CustomerSerializer, customer_echo
from campaigns.api.serializers.strategy import DialingStrategySerializer, strategy_out
from campaigns.models import Campaign, CampaignEndedReason, CampaignStatus


@extend_schema_serializer(component_name="Campaign")
class CampaignSerializer(serializers.Serializer):
    """Vapi's Campaign, plus Dialdeck's `dialingStrategy` and `maxConcurrency`, and the status
    `paused` (ours: Vapi has no pause). Unset optional fields are absent, never null.
    `customers` is absent for dial-plan campaigns (dialPlan carries them). For campaigns of
    more than 10,000 customers (Vapi's limit), `customers` and `calls` are left out of the
    document: read them with GET /campaign/{id}/customers and /campaign/{id}/calls."""

    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=CampaignStatus.values)
    endedReason = serializers.ChoiceField(
        choices=CampaignEndedReason.values, required=False, help_text="Set only when status is ended."
    )
    assistantId = serializers.CharField(required=False)
    workflowId = serializers.CharField(required=False)
    squadId = serializers.CharField(required=False)
    phoneNumberId = serializers.CharField(required=False)
    dialPlan = DialPlanEntrySerializer(many=True, required=False)
    schedulePlan = SchedulePlanSerializer(required=False)
    customers = CustomerSerializer(many=True, required=False, help_text="As submitted, in order.")
    calls = serializers.DictField(
        child=CampaignCallSerializer(),
        required=False,
        help_text="Map of call id to call. Always present for campaigns of up to 10,000 customers.",
    )
    callsCounterScheduled = serializers.IntegerField(help_text="Calls scheduled now (gauge).")
    callsCounterQueued = serializers.IntegerField(help_text="Calls queued now (gauge).")
    callsCounterInProgress = serializers.IntegerField(
        help_text="Calls ringing, in progress or forwarding now."
    )
    callsCounterEndedVoicemail = serializers.IntegerField(
        help_text="Calls ended with voicemail (cumulative)."
    )
    callsCounterEnded = serializers.IntegerField(help_text="Calls ended, any reason (cumulative).")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    dialingStrategy = DialingStrategySerializer(required=False)
    maxConcurrency = serializers.IntegerField(
        required=False, help_text="= dialingStrategy.maxConcurrentCalls."
    )

    def to_representation(self, campaign: Campaign) -> dict[str, Any]:
        """Expects the campaign to come through selectors.with_documents (customers, calls, dial plan)."""
        data: dict[str, Any] = {
            "id": str(campaign.id),
            "orgId": str(campaign.organization_id),
            "name": campaign.name,
            "status": campaign.status,
        }
        if campaign.ended_reason:
            data["endedReason"] = campaign.ended_reason
        key, value = campaign.target
        data[key] = value
        if campaign.phone_number_id:
            data["phoneNumberId"] = str(campaign.phone_number_id)
        if campaign.earliest_at:
            data["schedulePlan"] = {"earliestAt": iso(campaign.earliest_at)}
            if campaign.latest_at:
                data["schedulePlan"]["latestAt"] = iso(campaign.latest_at)
        documents = getattr(campaign, "documents", None)
        if documents is not None:
            # Each customer's echo is built once and shared by `customers` and the `calls` map.
            echoes = {c.id: customer_echo(c) for c in documents.customers}
            if campaign.uses_dial_plan:
                # Ids are text on PostgreSQL and UUIDs elsewhere (selectors._document_columns).
                by_entry = defaultdict(list)
                for c in documents.customers:
                    by_entry[str(c.dial_plan_entry_id)].append(echoes[c.id])
                data["dialPlan"] = [
                    {"phoneNumberId": str(entry.phone_number_id), "customers": by_entry[str(entry.id)]}
                    for entry in documents.dial_plan
                ]
            else:
                data["customers"] = list(echoes.values())
            data["calls"] = {
                str(call.id): call_entry(call, echoes[call.customer_id]) for call in documents.calls
            }
        data.update(
            callsCounterScheduled=campaign.calls_scheduled,
            callsCounterQueued=campaign.calls_queued,
            callsCounterInProgress=campaign.calls_in_progress,
            callsCounterEndedVoicemail=campaign.calls_ended_voicemail,
            callsCounterEnded=campaign.calls_ended,
            createdAt=iso(campaign.created_at),
            updatedAt=iso(campaign.updated_at),
            dialingStrategy=strategy_out(campaign),
            maxConcurrency=campaign.max_concurrent_calls,
        )
        return data


CampaignPageSerializer = paginated(
    "CampaignPaginatedResponse",
    CampaignSerializer,
    "Vapi's CampaignPaginatedResponse: one page of campaigns and where it is in the whole.",
)
