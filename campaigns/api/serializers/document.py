"""The Campaign document: Vapi's Campaign, as every /campaign endpoint answers (and /v2/campaign's
create, update and delete), and what the v2 summaries share with it.

Values stay within Vapi's schema: a paused campaign (Dialdeck's pause) reads `in-progress`, with
our extension keys `paused: true` and `pausedAt`; a campaign of more than 10,000 customers
(Vapi's limit; ours grow by bulk import) lists its first 10,000 and its latest 10,000 calls, and
says so in the extension key `truncated` (selectors.documents).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.call import CampaignCallSerializer, call_entry
from campaigns.api.serializers.caller_ids import POOL_DOC, CallerIdPoolSerializer, pool_out
from campaigns.api.serializers.campaign import DialPlanEntrySerializer, SchedulePlanSerializer
from campaigns.api.serializers.common import iso, paginated
from campaigns.api.serializers.customer import CustomerSerializer, document_echo
from campaigns.api.serializers.outcomes import outcomes_out, with_outcome_settings
from campaigns.api.serializers.query import MAX_LIMIT
from campaigns.api.serializers.series import LINK_FIELDS, links_out
from campaigns.api.serializers.server import (
    OVERRIDES_DOC,
    Overrides,
    PredialPlanSerializer,
    ServerSerializer,
    server_messages,
)
from campaigns.api.serializers.strategy import DialingStrategySerializer, strategy_out
from campaigns.models import Campaign, CampaignEndedReason, CampaignStatus
from campaigns.selectors.documents import DOCUMENT_LIMIT, WrittenCall

# Vapi's campaign statuses; a paused campaign reads in-progress.
VAPI_STATUSES = tuple(s for s in CampaignStatus.values if s != CampaignStatus.PAUSED)
# Where a truncated list goes on: the lists' pages hold at most 1,000 items, so the document's
# first 10,000 are their pages 1 to 10.
NEXT = f"page={DOCUMENT_LIMIT // MAX_LIMIT + 1}&limit={MAX_LIMIT}"
PAUSED_DOC = (
    "Dialdeck extension: present (true) only while the campaign is paused; status then reads in-progress."
)


def status_fields(campaign: Campaign) -> dict[str, Any]:
    """`status` as Vapi's enum has it, with our `paused`/`pausedAt` for a paused campaign."""
    if campaign.status != CampaignStatus.PAUSED:
        return {"status": campaign.status}
    fields: dict[str, Any] = {"status": CampaignStatus.IN_PROGRESS, "paused": True}
    if campaign.paused_at:
        fields["pausedAt"] = iso(campaign.paused_at)
    return fields


def settings_fields(campaign: Campaign) -> dict[str, Any]:
    """The Vapi 2026 settings the campaign has (unset ones absent, never null)."""
    data: dict[str, Any] = {"maxConcurrency": campaign.max_concurrent_calls}
    for key, value in (
        ("assistantOverrides", campaign.assistant_overrides),
        ("squadOverrides", campaign.squad_overrides),
        ("server", campaign.server),
        ("serverMessages", campaign.server_messages or None),
        ("predialPlan", campaign.predial_plan),
    ):
        if value is not None:
            data[key] = value
    return data


def schedule_fields(campaign: Campaign) -> dict[str, Any]:
    if not campaign.earliest_at:
        return {}
    plan = {"earliestAt": iso(campaign.earliest_at)}
    if campaign.latest_at:
        plan["latestAt"] = iso(campaign.latest_at)
    return {"schedulePlan": plan}


@extend_schema_serializer(component_name="TruncatedList")
class TruncatedListSerializer(serializers.Serializer):
    returned = serializers.IntegerField(help_text="How many the document lists (10,000).")
    total = serializers.IntegerField(required=False, help_text="How many the campaign has (customers).")
    next = serializers.CharField(help_text="Where the rest starts: page 11 of the list at limit=1000.")


@extend_schema_serializer(component_name="CampaignDocumentTruncation")
class TruncationSerializer(serializers.Serializer):
    """Dialdeck extension, present only for campaigns of more than 10,000 customers: `customers`
    holds the first 10,000 (pages 1 to 10 of GET /campaign/{id}/customers?limit=1000), `calls` the
    10,000 most recent calls (pages 1 to 10 of GET /campaign/{id}/calls?limit=1000)."""

    customers = TruncatedListSerializer()
    calls = TruncatedListSerializer(required=False, help_text="Present when calls were left out too.")


def truncation(campaign: Campaign) -> dict[str, Any] | None:
    document = campaign.document
    if not document.customers_truncated:
        return None
    marker: dict[str, Any] = {
        "customers": {
            "returned": len(document.customers),
            "total": campaign.customers_total,
            "next": f"/campaign/{campaign.pk}/customers?{NEXT}",
        }
    }
    if document.calls_truncated:
        marker["calls"] = {
            "returned": len(document.calls),
            "next": f"/campaign/{campaign.pk}/calls?{NEXT}",
        }
    return marker


@extend_schema_serializer(component_name="Campaign")
@with_outcome_settings
class CampaignSerializer(serializers.Serializer):
    """Vapi's Campaign, plus Dialdeck's `dialingStrategy`, `paused`/`pausedAt` (Vapi has no pause:
    a paused campaign reads in-progress) and `truncated`. Unset optional fields are absent, never
    null. `customers` is absent for dial-plan campaigns (dialPlan carries them). Campaigns of more
    than 10,000 customers (Vapi's limit) list their first 10,000 customers and latest 10,000
    calls; `truncated` says where the rest is."""

    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=VAPI_STATUSES)
    endedReason = serializers.ChoiceField(
        choices=CampaignEndedReason.values,
        required=False,
        help_text="Set only when status is ended, cancelled or archived.",
    )
    assistantId = serializers.CharField(required=False)
    workflowId = serializers.CharField(required=False)
    squadId = serializers.CharField(required=False)
    phoneNumberId = serializers.CharField(required=False)
    dialPlan = DialPlanEntrySerializer(many=True, required=False)
    schedulePlan = SchedulePlanSerializer(required=False)
    customers = CustomerSerializer(many=True, required=False, help_text="As submitted, in order.")
    maxConcurrency = serializers.IntegerField(help_text="= dialingStrategy.maxConcurrentCalls.")
    assistantOverrides = Overrides(required=False, help_text=OVERRIDES_DOC)
    squadOverrides = Overrides(required=False, help_text=OVERRIDES_DOC)
    server = ServerSerializer(required=False)
    serverMessages = server_messages(required=False)
    predialPlan = PredialPlanSerializer(required=False)
    calls = serializers.DictField(child=CampaignCallSerializer(), help_text="Map of call id to call.")
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
    paused = serializers.BooleanField(required=False, help_text=PAUSED_DOC)
    pausedAt = serializers.DateTimeField(required=False, help_text="Dialdeck extension: when it was paused.")
    truncated = TruncationSerializer(required=False)
    callerIdPool = CallerIdPoolSerializer(required=False, help_text=POOL_DOC)

    def to_representation(self, campaign: Campaign) -> dict[str, Any]:
        """Expects the campaign to come through selectors.campaign_documents."""
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
        data.update(schedule_fields(campaign))
        document = campaign.document
        # Each customer's echo is built once and shared by `customers` and the `calls` map.
        echoes = {pk: document_echo(c) for pk, c in document.echoes.items()}
        listed = [echoes[c.id] for c in document.customers]
        if campaign.uses_dial_plan:
            # Ids are text on PostgreSQL and UUIDs elsewhere (selectors.documents._document_rows).
            by_entry = defaultdict(list)
            for c in document.customers:
                by_entry[str(c.dial_plan_entry_id)].append(echoes[c.id])
            data["dialPlan"] = [
                {"phoneNumberId": str(entry.phone_number_id), "customers": by_entry[str(entry.id)]}
                for entry in document.dial_plan
            ]
        else:
            data["customers"] = listed
        data.update(settings_fields(campaign))
        data["calls"] = {
            str(call.id): orjson.Fragment(call.entry)  # written by the database (selectors.documents)
            if isinstance(call, WrittenCall)
            else call_entry(call, echoes[call.customer_id])
            for call in document.calls
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
        )
        data.update(pool_out(campaign))
        data.update(outcomes_out(campaign))
        data.update(links_out(campaign))
        marker = truncation(campaign)
        if marker:
            data["truncated"] = marker
        return data


# Dialdeck's links (re-run, series) and pausedReason, documented after everything else.
CampaignSerializer._declared_fields.update(LINK_FIELDS)

CampaignPageSerializer = paginated(
    "CampaignPaginatedResponse",
    CampaignSerializer,
    "Vapi's CampaignPaginatedResponse: one page of campaigns and where it is in the whole.",
)
