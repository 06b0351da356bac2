"""The bodies of POST /campaign and PATCH /campaign/{id} (Vapi's DTOs plus our extensions).

Input serializers declare their fields for the OpenAPI document; `to_internal_value`
enforces the same rules path by path (every problem at once, each naming its field,
unknown properties refused) and returns the service's input dataclass.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.common import BodySerializer
from campaigns.api.serializers.customer import (
    MAX_CUSTOMERS,
    CustomerSerializer,
    read_customers,
)
from campaigns.api.serializers.reading import Reader, join
from campaigns.api.serializers.strategy import DialingStrategySerializer, read_strategy
from campaigns.services import CampaignChanges, CampaignInput, DialPlanInput, FieldError
from campaigns.services.strategy import BOUNDS, VAPI_DEFAULTS

TARGETS = {"assistantId": "assistant_id", "workflowId": "workflow_id", "squadId": "squad_id"}
TARGET_NAMES = "assistantId, workflowId or squadId"
CREATE_KEYS = frozenset(
    {"name", *TARGETS, "phoneNumberId", "dialPlan", "schedulePlan", "customers"}
    | {"dialingStrategy", "maxConcurrency"}
)
UPDATE_KEYS = frozenset(
    {"name", *TARGETS, "phoneNumberId", "dialPlan", "schedulePlan", "status"}
    | {"dialingStrategy", "maxConcurrency"}
)
# PATCH status: Vapi v1 takes "ended"; newer Vapi calls it "cancelled". Both end the campaign.
END_STATUSES = ("ended", "cancelled")
ID_LENGTH = 100  # the model's limit for assistant/workflow/squad ids
SCHEDULE_KEYS = ("earliestAt", "latestAt")


class SchedulePlanSerializer(serializers.Serializer):
    """Absolute instants, each with its UTC offset (Z or ±hh:mm; a time without one is refused,
    since it names no instant). Dialing starts at earliestAt; nothing is dialed after latestAt."""

    earliestAt = serializers.DateTimeField(
        help_text="e.g. 2026-12-01T14:00:00Z or 2026-12-01T09:00:00-05:00."
    )
    latestAt = serializers.DateTimeField(required=False, help_text="Not before earliestAt; with an offset.")


class DialPlanEntrySerializer(serializers.Serializer):
    """A caller ID and the customers it calls."""

    phoneNumberId = serializers.CharField(help_text="A phone number (caller ID) of your organization.")
    customers = CustomerSerializer(many=True)


def _read_schedule(reader: Reader) -> tuple[bool, Any, Any]:
    """(present, earliestAt, latestAt) of the body's schedulePlan."""
    if not reader.present("schedulePlan"):
        return False, None, None
    plan = Reader(reader.data["schedulePlan"], reader.name("schedulePlan"), reader.errors, SCHEDULE_KEYS)
    if not plan.ok:
        return True, None, None
    return True, plan.datetime("earliestAt", required=True), plan.datetime("latestAt")


def _read_dial_plan(reader: Reader) -> list[DialPlanInput] | None:
    entries = reader.array("dialPlan", low=1)
    if entries is None:
        return None
    plan, total = [], 0
    for i, value in enumerate(entries):
        entry = Reader(value, join("dialPlan", i), reader.errors, ("phoneNumberId", "customers"))
        if not entry.ok:
            continue
        phone_number_id = entry.string("phoneNumberId", required=True)
        customers = entry.array("customers", required=True, low=1, high=MAX_CUSTOMERS)
        total += len(customers or [])
        rows = read_customers(customers, entry.name("customers"), reader.errors) if customers else []
        if phone_number_id is not None and customers is not None:
            plan.append(DialPlanInput(phone_number_id=phone_number_id, customers=rows))
    if total > MAX_CUSTOMERS:
        reader.fail("dialPlan", f"must contain no more than {MAX_CUSTOMERS} customers in all")
    return plan


def _read_targets(reader: Reader) -> dict[str, str]:
    targets = {}
    for key, field in TARGETS.items():
        value = reader.string(key, max_length=ID_LENGTH)
        if value is not None:
            targets[field] = value
    given = [key for key in TARGETS if reader.present(key)]
    if len(given) > 1:
        reader.fail(given[1], f"must not be set together with {given[0]} (only one of {TARGET_NAMES})")
    return targets


def _read_strategy_and_concurrency(reader: Reader) -> dict[str, Any] | None:
    strategy = read_strategy(reader)
    low, high = BOUNDS["max_concurrent_calls"]
    concurrency = reader.integer("maxConcurrency", low=low, high=high)
    if concurrency is not None:
        if strategy is not None and "max_concurrent_calls" in strategy:
            reader.fail("maxConcurrency", "must not be set together with dialingStrategy.maxConcurrentCalls")
        strategy = {**(VAPI_DEFAULTS if strategy is None else strategy), "max_concurrent_calls": concurrency}
    return strategy


def _fail(errors: list[FieldError]) -> None:
    if errors:
        raise serializers.ValidationError([str(error) for error in errors])


@extend_schema_serializer(component_name="CreateCampaignDTO")
class CampaignCreateSerializer(BodySerializer):
    """Vapi's CreateCampaignDTO plus Dialdeck's optional `dialingStrategy` and Vapi's newer
    `maxConcurrency`. Exactly one of assistantId, workflowId, squadId; phoneNumberId with
    customers, or a dialPlan (not both). Unknown properties are refused."""

    name = serializers.CharField(max_length=255)
    assistantId = serializers.CharField(required=False, max_length=ID_LENGTH)
    workflowId = serializers.CharField(required=False, max_length=ID_LENGTH)
    squadId = serializers.CharField(required=False, max_length=ID_LENGTH)
    phoneNumberId = serializers.CharField(
        required=False, help_text="Required if dialPlan is not provided; not with dialPlan."
    )
    dialPlan = DialPlanEntrySerializer(
        many=True, required=False, help_text="Not with phoneNumberId/customers."
    )
    schedulePlan = SchedulePlanSerializer(required=False, help_text="Absent: dialing starts at once.")
    customers = CustomerSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_CUSTOMERS,
        help_text="Required if dialPlan is not provided; at most 10,000 (add more with "
        "POST /campaign/{id}/customers).",
    )
    dialingStrategy = DialingStrategySerializer(required=False)
    maxConcurrency = serializers.IntegerField(
        required=False,
        min_value=BOUNDS["max_concurrent_calls"][0],
        max_value=BOUNDS["max_concurrent_calls"][1],
        help_text="Vapi's newer name for dialingStrategy.maxConcurrentCalls.",
    )

    def to_internal_value(self, data: Any) -> CampaignInput:
        errors: list[FieldError] = []
        reader = Reader(data, "", errors, CREATE_KEYS)
        if not reader.ok:
            _fail(errors)
        name = reader.string("name", required=True, max_length=255)
        targets = _read_targets(reader)
        if not any(reader.present(key) for key in TARGETS):
            reader.fail("assistantId", f"should not be empty: set one of {TARGET_NAMES}")
        phone_number_id = reader.string("phoneNumberId")
        dial_plan = _read_dial_plan(reader)
        customers = None
        if reader.present("dialPlan"):
            if reader.present("phoneNumberId"):
                reader.fail("phoneNumberId", "must not be set together with dialPlan")
            if reader.present("customers"):
                reader.fail(
                    "customers", "must not be set together with dialPlan (give each entry its customers)"
                )
        else:
            if not reader.present("phoneNumberId"):
                reader.fail("phoneNumberId", "should not be empty when dialPlan is not provided")
            values = reader.array("customers", low=1, high=MAX_CUSTOMERS)
            if values is None and not reader.present("customers"):
                reader.fail("customers", "should not be empty when dialPlan is not provided")
            customers = read_customers(values, "customers", errors) if values else None
        _, earliest_at, latest_at = _read_schedule(reader)
        strategy = _read_strategy_and_concurrency(reader)
        _fail(errors)
        return CampaignInput(
            name=name,
            phone_number_id=phone_number_id,
            customers=customers,
            dial_plan=dial_plan,
            earliest_at=earliest_at,
            latest_at=latest_at,
            strategy=strategy,
            **targets,
        )


@extend_schema_serializer(component_name="UpdateCampaignDTO")
class CampaignUpdateSerializer(BodySerializer):
    """Vapi's UpdateCampaignDTO plus `dialingStrategy` and `maxConcurrency`. Target, caller ID,
    dial plan and schedule change only while scheduled; dialingStrategy and maxConcurrency while
    scheduled or paused; name always. `status: "ended"` (or "cancelled") ends the campaign.
    `customers` is not updatable (add customers with POST /campaign/{id}/customers)."""

    name = serializers.CharField(required=False, max_length=255)
    assistantId = serializers.CharField(required=False, max_length=ID_LENGTH)
    workflowId = serializers.CharField(required=False, max_length=ID_LENGTH)
    squadId = serializers.CharField(required=False, max_length=ID_LENGTH)
    phoneNumberId = serializers.CharField(required=False)
    dialPlan = DialPlanEntrySerializer(many=True, required=False)
    schedulePlan = SchedulePlanSerializer(required=False)
    status = serializers.ChoiceField(
        choices=END_STATUSES,
        required=False,
        help_text="Only to end the campaign: ended (Vapi v1) or cancelled (newer Vapi's name).",
    )
    dialingStrategy = DialingStrategySerializer(required=False)
    maxConcurrency = serializers.IntegerField(
        required=False,
        min_value=BOUNDS["max_concurrent_calls"][0],
        max_value=BOUNDS["max_concurrent_calls"][1],
    )

    def to_internal_value(self, data: Any) -> CampaignChanges:
        errors: list[FieldError] = []
        reader = Reader(data, "", errors, UPDATE_KEYS)
        if not reader.ok:
            _fail(errors)
        changes = CampaignChanges()
        name = reader.string("name", max_length=255)
        if name is not None:
            changes.fields.add("name")
            changes.name = name
        targets = _read_targets(reader)
        if targets:
            changes.fields.add("target")
            changes.target = next(iter(targets.items()))
        if reader.present("phoneNumberId") and reader.present("dialPlan"):
            reader.fail("phoneNumberId", "must not be set together with dialPlan")
        phone_number_id = reader.string("phoneNumberId")
        if phone_number_id is not None:
            changes.fields.add("phone_number_id")
            changes.phone_number_id = phone_number_id
        dial_plan = _read_dial_plan(reader)
        if dial_plan is not None:
            changes.fields.add("dial_plan")
            changes.dial_plan = dial_plan
        present, earliest_at, latest_at = _read_schedule(reader)
        if present:
            changes.fields |= {"earliest_at", "latest_at"}
            changes.earliest_at, changes.latest_at = earliest_at, latest_at
        changes.end = reader.choice("status", END_STATUSES) is not None
        strategy = _read_strategy_and_concurrency(reader)
        if strategy is not None:
            changes.fields.add("strategy")
            changes.strategy = strategy
        _fail(errors)
        return changes
