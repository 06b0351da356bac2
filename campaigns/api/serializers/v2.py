"""Vapi's v2 campaign surface: the status-only update, CampaignSummary (what the v2 reads answer),
its opt-in counters, and the contacts with their outcome. Creates, updates and deletes answer the
full Campaign document (serializers.document), as Vapi's v2 does; v2's create body is
CreateCampaignDTO read with v2's rules (serializers.campaign, context {"version": 2})."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.caller_ids import POOL_DOC, CallerIdPoolSerializer, pool_out
from campaigns.api.serializers.campaign import END_STATUSES, DialPlanEntrySerializer, SchedulePlanSerializer
from campaigns.api.serializers.common import iso, paginated
from campaigns.api.serializers.document import (
    PAUSED_DOC,
    VAPI_STATUSES,
    schedule_fields,
    settings_fields,
    status_fields,
)
from campaigns.api.serializers.fields import Choice, InlineChoice, Text, inline_enum
from campaigns.api.serializers.request import MISSING, RequestSerializer
from campaigns.api.serializers.server import (
    OVERRIDES_DOC,
    Overrides,
    PredialPlanSerializer,
    ServerSerializer,
    server_messages,
)
from campaigns.models import Campaign, CampaignEndedReason
from campaigns.rules import contacts
from campaigns.selectors import Contact


class InlineEndStatus(Choice):
    """v2's PATCH status (ended or cancelled), its enum shown in place (see fields.InlineChoice)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(END_STATUSES, **kwargs)
        extend_schema_field(inline_enum(END_STATUSES, str(self.help_text)))(self)


IMMUTABLE = (
    "cannot be updated through /v2/campaign: v2 updates are status-only (cancelled, or its alias ended)"
)


@extend_schema_serializer(component_name="UpdateCampaignV2DTO")
class CampaignUpdateV2Serializer(RequestSerializer):
    """Vapi's UpdateCampaignDTO as v2 reads it: status-only. `{"status": "cancelled"}` (or `ended`,
    its v1 alias) cancels an active campaign (scheduled or in-progress): nothing more is dialed,
    calls in flight finish. Every other field is refused: v2 campaigns are immutable."""

    name = Text(required=False, help_text="Refused: v2 campaigns are immutable.")
    assistantId = Text(required=False, help_text="Refused.")
    workflowId = Text(required=False, help_text="Refused.")
    squadId = Text(required=False, help_text="Refused.")
    phoneNumberId = Text(required=False, help_text="Refused.")
    dialPlan = DialPlanEntrySerializer(many=True, required=False, help_text="Refused.")
    schedulePlan = SchedulePlanSerializer(required=False, help_text="Refused.")
    status = InlineEndStatus(help_text="cancelled (or ended, the v1 alias): cancel the campaign.")

    def to_internal_value(self, data: Any) -> str:
        """The status asked for ("cancelled" or "ended")."""
        problems, data = self.begin(data)
        for key in self.fields:
            if key != "status" and self.given(data, key):
                problems.add(key, IMMUTABLE)
        status = self.take(data, "status", problems)
        problems.raise_any()
        return status if status is not MISSING else ""


@extend_schema_serializer(component_name="CampaignContactCounters")
class ContactCountersSerializer(serializers.Serializer):
    """Contacts by status now (gauges, from the campaign's stored counters): their sum is the
    audience; pending + dispatched is what is left. Contacts a cancel left undialed count as pending."""

    pending = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    predialFailed = serializers.IntegerField()


@extend_schema_serializer(component_name="CampaignCallMetrics")
class CallMetricsSerializer(serializers.Serializer):
    dialed = serializers.IntegerField(help_text="Contacts a call was placed to.")
    connected = serializers.IntegerField(
        help_text="Of those, contacts a person answered (voicemail excluded); connected / dialed is "
        "the pick-up rate."
    )


def counters(campaign: Campaign) -> dict[str, Any]:
    """contactCounters and callMetrics, from the campaign's stored counters (never a count)."""
    return {
        "contactCounters": {
            key: sum(getattr(campaign, column) for column in columns)
            for key, columns in contacts.CONTACT_COUNTERS.items()
        },
        "callMetrics": {"dialed": campaign.customers_dialed, "connected": campaign.customers_connected},
    }


@extend_schema_serializer(component_name="CampaignSummary")
class CampaignSummarySerializer(serializers.Serializer):
    """Vapi's CampaignSummary: the campaign without its customers and calls. `contactCounters` and
    `callMetrics` only with includeCounters=true (context {"counters": True}). Dialdeck's
    `paused`/`pausedAt` as in the Campaign document; `workflowId` for v1 campaigns that have one;
    `callerIdPool` (Dialdeck) for a campaign dialing from a pool, as the document has it."""

    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    name = serializers.CharField()
    status = InlineChoice(VAPI_STATUSES, help_text="A paused campaign reads in-progress (see paused).")
    endedReason = serializers.ChoiceField(choices=CampaignEndedReason.values, required=False)
    assistantId = serializers.CharField(required=False)
    squadId = serializers.CharField(required=False)
    workflowId = serializers.CharField(required=False, help_text="v1 campaigns only (Dialdeck: kept).")
    phoneNumberId = serializers.CharField(required=False, help_text="Absent for v1 dial-plan campaigns.")
    callerIdPool = CallerIdPoolSerializer(required=False, help_text=POOL_DOC)
    schedulePlan = SchedulePlanSerializer(required=False)
    maxConcurrency = serializers.IntegerField()
    assistantOverrides = Overrides(required=False, help_text=OVERRIDES_DOC)
    squadOverrides = Overrides(required=False, help_text=OVERRIDES_DOC)
    server = ServerSerializer(required=False)
    serverMessages = server_messages(required=False)
    predialPlan = PredialPlanSerializer(required=False)
    contactCounters = ContactCountersSerializer(required=False)
    callMetrics = CallMetricsSerializer(required=False)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    paused = serializers.BooleanField(required=False, help_text=PAUSED_DOC)
    pausedAt = serializers.DateTimeField(required=False)

    def to_representation(self, campaign: Campaign) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(campaign.id),
            "orgId": str(campaign.organization_id),
            "name": campaign.name,
            **status_fields(campaign),
        }
        if campaign.ended_reason:
            data["endedReason"] = campaign.ended_reason
        key, value = campaign.target
        data[key] = value
        if campaign.phone_number_id:
            data["phoneNumberId"] = str(campaign.phone_number_id)
        data.update(pool_out(campaign))
        data.update(schedule_fields(campaign), **settings_fields(campaign))
        if self.context.get("counters"):
            data.update(counters(campaign))
        data.update(createdAt=iso(campaign.created_at), updatedAt=iso(campaign.updated_at))
        return data


@extend_schema_serializer(component_name="CampaignContactWithOutcome")
class ContactSerializer(serializers.Serializer):
    """A customer of the campaign as a v2 contact, with its latest call when it has one."""

    id = serializers.UUIDField()
    number = serializers.CharField(help_text="As submitted (a SIP-only customer's: its sipUri).")
    name = serializers.CharField(required=False)
    status = InlineChoice(contacts.STATUSES, help_text="The contact's status.")
    callId = serializers.UUIDField(required=False, help_text="Its latest call, once one was made.")
    dispatchedAt = serializers.DateTimeField(required=False, help_text="When that call was made.")
    endedReason = serializers.CharField(required=False, help_text="That call's endedReason, once it ended.")

    def to_representation(self, contact: Contact) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(contact.id), "number": contact.number}
        if contact.name:
            data["name"] = contact.name
        data["status"] = contact.status
        if contact.call_id is not None:
            data["callId"] = str(contact.call_id)
            data["dispatchedAt"] = iso(contact.dispatched_at)
        if contact.ended_reason:
            data["endedReason"] = contact.ended_reason
        return data


CampaignSummaryPageSerializer = paginated(
    "CampaignSummaryPaginatedResponse", CampaignSummarySerializer, "One page of campaign summaries."
)
ContactPageSerializer = paginated(
    "CampaignContactPaginatedResponse", ContactSerializer, "One page of a campaign's contacts."
)
