"""The bodies of POST /campaign (and /v2/campaign) and PATCH /campaign/{id} (Vapi's DTOs plus
our extensions).

Each field checks and documents its own value; `to_internal_value` reads the fields in the
order Vapi reports problems, adds the rules that span fields (one call target, phoneNumberId or
a dialPlan, maxConcurrency or dialingStrategy.maxConcurrentCalls, what a duplicate may leave
out, v2's narrower targets), and returns the service's input dataclass. Everything wrong is
reported at once, each problem naming its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_serializer

from campaigns.api.serializers.caller_ids import POOL_DOC, CallerIdPoolSerializer
from campaigns.api.serializers.customer import MAX_CUSTOMERS, CustomerSerializer, named
from campaigns.api.serializers.fields import Choice, Instant, Integer, Text, as_integer
from campaigns.api.serializers.outcomes import outcome_values, with_outcome_settings
from campaigns.api.serializers.request import MISSING, Problems, RequestSerializer
from campaigns.api.serializers.server import (
    OVERRIDES_DOC,
    Overrides,
    PredialPlanSerializer,
    ServerSerializer,
    server_messages,
)
from campaigns.api.serializers.strategy import DialingStrategySerializer
from campaigns.rules.strategy import BOUNDS, VAPI_DEFAULTS
from campaigns.services import CampaignChanges, CampaignInput, DialPlanInput
from campaigns.services.errors import WORDING

TARGETS = {"assistantId": "assistant_id", "workflowId": "workflow_id", "squadId": "squad_id"}
TARGET_NAMES = "assistantId, workflowId or squadId"
V2_TARGETS = {"assistantId": "assistant_id", "squadId": "squad_id"}
V2_TARGET_NAMES = "assistantId or squadId"
V1_ONLY = (
    "is V1-only: /v2/campaign takes one of assistantId or squadId and one phoneNumberId "
    "(create it with POST /campaign)"
)
# The 2026 campaign settings, by API name and by the name the services give them (CampaignInput).
SETTINGS = {
    "assistantOverrides": "assistant_overrides",
    "squadOverrides": "squad_overrides",
    "server": "server",
    "serverMessages": "server_messages",
    "predialPlan": "predial_plan",
}
# PATCH status: Vapi v1 takes "ended"; newer Vapi calls it "cancelled". Both end the campaign.
END_STATUSES = ("ended", "cancelled")
ID_LENGTH = 100  # the model's limit for assistant/workflow/squad ids
CONCURRENCY = BOUNDS["max_concurrent_calls"]


class SchedulePlanSerializer(RequestSerializer):
    """Absolute instants, each with its UTC offset (Z or ±hh:mm; a time without one is refused,
    since it names no instant). Dialing starts at earliestAt; nothing is dialed after latestAt."""

    earliestAt = Instant(help_text="e.g. 2026-12-01T14:00:00Z or 2026-12-01T09:00:00-05:00.")
    latestAt = Instant(required=False, help_text="Not before earliestAt; with an offset.")


class DialPlanEntrySerializer(RequestSerializer):
    """A caller ID and the customers it calls."""

    phoneNumberId = Text(help_text="A phone number (caller ID) of your organization.")
    customers = CustomerSerializer(many=True, min_length=1, max_length=MAX_CUSTOMERS)

    def to_internal_value(self, data: Any) -> DialPlanInput:
        values = super().to_internal_value(data)
        return DialPlanInput(phone_number_id=values["phoneNumberId"], customers=values["customers"])


def _customers_in_plan(entries: Any) -> int:
    """Customers of a dialPlan's entries that are arrays of an allowed length."""
    if not isinstance(entries, list):
        return 0
    return sum(
        len(entry["customers"])
        for entry in entries
        if isinstance(entry, Mapping)
        and isinstance(entry.get("customers"), list)
        and 1 <= len(entry["customers"]) <= MAX_CUSTOMERS
    )


class CampaignBody(RequestSerializer):
    """What the two campaign bodies share: the call target, the dial plan, the strategy."""

    def targets(
        self, data: Mapping, problems: Problems, keys: Mapping[str, str] = TARGETS, names: str = TARGET_NAMES
    ) -> dict[str, str]:
        """The call target given (model field -> id) among `keys`; two at once is a problem."""
        targets = {}
        for key, field in keys.items():
            value = self.take(data, key, problems)
            if value is not MISSING:
                targets[field] = value
        given = [key for key in keys if self.given(data, key)]
        if len(given) > 1:
            problems.add(given[1], f"must not be set together with {given[0]} (only one of {names})")
        return targets

    def dial_plan(self, data: Mapping, problems: Problems) -> Any:
        plan = self.take(data, "dialPlan", problems)
        if self.given(data, "dialPlan") and _customers_in_plan(data["dialPlan"]) > MAX_CUSTOMERS:
            problems.add("dialPlan", f"must contain no more than {MAX_CUSTOMERS} customers in all")
        if plan is not MISSING:
            for i, entry in enumerate(plan):
                named(entry.customers, f"dialPlan.{i}.customers")
        return plan

    def strategy(self, data: Mapping, problems: Problems, *, defaults: bool = True) -> dict[str, Any] | None:
        """The dialing strategy given (model field names), maxConcurrency included; None: none given.
        maxConcurrency alone comes with Vapi's defaults for the rest, unless not `defaults` (a
        duplicate keeps its source's)."""
        strategy = self.take(data, "dialingStrategy", problems)
        strategy = None if strategy is MISSING else strategy
        concurrency = self.take(data, "maxConcurrency", problems)
        if concurrency is not MISSING:
            given = data.get("dialingStrategy")
            if isinstance(given, Mapping) and as_integer(given.get("maxConcurrentCalls")) is not None:
                problems.add(
                    "maxConcurrency", "must not be set together with dialingStrategy.maxConcurrentCalls"
                )
            base = strategy if strategy is not None else VAPI_DEFAULTS if defaults else {}
            strategy = {**base, "max_concurrent_calls": concurrency}
        return strategy


@with_outcome_settings
@extend_schema_serializer(component_name="CreateCampaignDTO")
class CampaignCreateSerializer(CampaignBody):
    """Vapi's CreateCampaignDTO plus Dialdeck's optional `dialingStrategy`. Exactly one of
    assistantId, workflowId, squadId; phoneNumberId with customers, or a dialPlan (not both);
    with duplicateFromCampaignId, what is not given is copied from that campaign. Unknown
    properties are refused. POST /v2/campaign takes the same body with v2's rules: assistantId
    or squadId, one phoneNumberId, no workflowId or dialPlan."""

    name = Text(max_length=255)
    assistantId = Text(required=False, max_length=ID_LENGTH)
    workflowId = Text(required=False, max_length=ID_LENGTH)
    squadId = Text(required=False, max_length=ID_LENGTH)
    phoneNumberId = Text(required=False, help_text="Required if dialPlan is not provided; not with dialPlan.")
    dialPlan = DialPlanEntrySerializer(
        many=True, required=False, min_length=1, help_text="Not with phoneNumberId/customers."
    )
    schedulePlan = SchedulePlanSerializer(required=False, help_text="Absent: dialing starts at once.")
    customers = CustomerSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_CUSTOMERS,
        help_text="Required if dialPlan is not provided (or copied from duplicateFromCampaignId); at "
        "most 10,000 (add more with POST /campaign/{id}/customers).",
    )
    maxConcurrency = Integer(
        required=False,
        min_value=CONCURRENCY[0],
        max_value=CONCURRENCY[1],
        help_text="Calls in flight at once (= dialingStrategy.maxConcurrentCalls). Defaults to 10.",
    )
    assistantOverrides = Overrides(required=False, help_text=f"For assistantId campaigns. {OVERRIDES_DOC}")
    squadOverrides = Overrides(required=False, help_text=f"For squadId campaigns. {OVERRIDES_DOC}")
    server = ServerSerializer(required=False, help_text="Where campaign events and pre-dial checks go.")
    serverMessages = server_messages(required=False, help_text="The campaign events sent to server.url.")
    predialPlan = PredialPlanSerializer(required=False)
    duplicateFromCampaignId = Text(
        required=False,
        max_length=ID_LENGTH,
        help_text="A campaign of yours to copy: every setting and (unless customers are given) its "
        "customers, for what the request does not give. Unknown: 404.",
    )
    dialingStrategy = DialingStrategySerializer(required=False)
    callerIdPool = CallerIdPoolSerializer(required=False, help_text=POOL_DOC)

    def to_internal_value(self, data: Any) -> CampaignInput:
        problems, data = self.begin(data)
        # context["version"] 2: the body of POST /v2/campaign, read with v2's rules.
        version = self.context.get("version", 1)
        v2, copying = version == 2, self.given(data, "duplicateFromCampaignId")
        name = self.take(data, "name", problems)
        if v2:
            for key in ("workflowId", "dialPlan"):
                if self.given(data, key):
                    problems.add(key, V1_ONLY)
        keys, names = (V2_TARGETS, V2_TARGET_NAMES) if v2 else (TARGETS, TARGET_NAMES)
        targets = self.targets(data, problems, keys, names)
        given = {"target"} if targets else set()
        if not copying and not any(self.given(data, key) for key in keys):
            problems.add(next(iter(keys)), f"{WORDING['required']}: set one of {names}")
        phone_number_id = self.take(data, "phoneNumberId", problems)
        dial_plan = MISSING if v2 else self.dial_plan(data, problems)
        customers = MISSING
        if self.given(data, "dialPlan") and not v2:
            if self.given(data, "phoneNumberId"):
                problems.add("phoneNumberId", "must not be set together with dialPlan")
            if self.given(data, "customers"):
                problems.add(
                    "customers", "must not be set together with dialPlan (give each entry its customers)"
                )
        else:
            needed = "" if v2 else " when dialPlan is not provided"
            if not copying and not self.given(data, "phoneNumberId"):
                problems.add("phoneNumberId", f"{WORDING['required']}{needed}")
            customers = self.take(data, "customers", problems)
            if not copying and not self.given(data, "customers"):
                problems.add("customers", f"{WORDING['required']}{needed}")
        schedule = self.take(data, "schedulePlan", problems)
        strategy = self.strategy(data, problems, defaults=not copying)
        settings = {}
        for key, field in SETTINGS.items():
            value = self.take(data, key, problems)
            if value is not MISSING:
                settings[field] = value
        source = self.take(data, "duplicateFromCampaignId", problems)
        pool = self.take(data, "callerIdPool", problems)
        if pool is not MISSING and self.given(data, "dialPlan"):
            problems.add("callerIdPool", "must not be set together with dialPlan")
        outcomes = outcome_values(self, data, problems)
        problems.raise_any()
        # A dial plan given sets the caller IDs: a duplicate copies no phoneNumberId beside it.
        caller_given = phone_number_id is not MISSING or dial_plan is not MISSING
        given |= set(settings) | ({"phone_number_id"} if caller_given else set())
        given |= {"earliest_at", "latest_at"} if schedule is not MISSING else set()
        given |= {"strategy"} if strategy is not None else set()
        given |= {"caller_id_pool"} if pool is not MISSING else set()
        schedule = {} if schedule is MISSING else schedule
        return CampaignInput(
            name=name,
            phone_number_id=None if phone_number_id is MISSING else phone_number_id,
            customers=None if customers is MISSING else named(customers, "customers"),
            dial_plan=None if dial_plan is MISSING else dial_plan,
            earliest_at=schedule.get("earliestAt"),
            latest_at=schedule.get("latestAt"),
            strategy=strategy,
            duplicate_from_id=None if source is MISSING else source,
            caller_id_pool=None if pool is MISSING else pool,
            api_version=version,
            outcomes=outcomes,
            given=given,
            **targets,
            **settings,
        )


@with_outcome_settings
@extend_schema_serializer(component_name="UpdateCampaignDTO")
class CampaignUpdateSerializer(CampaignBody):
    """Vapi's UpdateCampaignDTO plus `dialingStrategy`, `maxConcurrency` and the 2026 settings.
    Target, caller ID, dial plan, schedule, overrides and predialPlan change only while scheduled;
    dialingStrategy, maxConcurrency, server and serverMessages while scheduled or paused; name
    always. `status: "ended"` (or "cancelled") ends the campaign.
    `customers` is not updatable (add customers with POST /campaign/{id}/customers)."""

    name = Text(required=False, max_length=255)
    assistantId = Text(required=False, max_length=ID_LENGTH)
    workflowId = Text(required=False, max_length=ID_LENGTH)
    squadId = Text(required=False, max_length=ID_LENGTH)
    phoneNumberId = Text(required=False)
    dialPlan = DialPlanEntrySerializer(many=True, required=False, min_length=1)
    schedulePlan = SchedulePlanSerializer(required=False)
    status = Choice(
        choices=END_STATUSES,
        required=False,
        help_text="Only to end the campaign: ended (Vapi v1) or cancelled (newer Vapi's name).",
    )
    dialingStrategy = DialingStrategySerializer(required=False)
    maxConcurrency = Integer(required=False, min_value=CONCURRENCY[0], max_value=CONCURRENCY[1])
    assistantOverrides = Overrides(
        required=False, help_text=f"Dialdeck: while scheduled; null clears. {OVERRIDES_DOC}"
    )
    squadOverrides = Overrides(required=False, help_text="Dialdeck: while scheduled; null clears.")
    server = ServerSerializer(required=False, help_text="Dialdeck: while scheduled or paused; null clears.")
    serverMessages = server_messages(required=False, help_text="Dialdeck: while scheduled or paused.")
    predialPlan = PredialPlanSerializer(required=False, help_text="Dialdeck: while scheduled; null clears.")
    callerIdPool = CallerIdPoolSerializer(required=False, help_text=POOL_DOC)

    def to_internal_value(self, data: Any) -> CampaignChanges:
        problems, data = self.begin(data)
        changes = CampaignChanges()
        name = self.take(data, "name", problems)
        if name is not MISSING:
            changes.fields.add("name")
            changes.name = name
        targets = self.targets(data, problems)
        if targets:
            changes.fields.add("target")
            changes.target = next(iter(targets.items()))
        if self.given(data, "phoneNumberId") and self.given(data, "dialPlan"):
            problems.add("phoneNumberId", "must not be set together with dialPlan")
        phone_number_id = self.take(data, "phoneNumberId", problems)
        if phone_number_id is not MISSING:
            changes.fields.add("phone_number_id")
            changes.phone_number_id = phone_number_id
        dial_plan = self.dial_plan(data, problems)
        if dial_plan is not MISSING:
            changes.fields.add("dial_plan")
            changes.dial_plan = dial_plan
        schedule = self.take(data, "schedulePlan", problems)
        if self.given(data, "schedulePlan"):
            changes.fields |= {"earliest_at", "latest_at"}
        if schedule is not MISSING:
            changes.earliest_at, changes.latest_at = schedule.get("earliestAt"), schedule.get("latestAt")
        status = self.take(data, "status", problems)
        changes.end = status is not MISSING
        if status is not MISSING:
            changes.end_status = status  # "cancelled" reads cancelled; "ended" stays v1's ended
        strategy = self.strategy(data, problems, defaults=False)  # a PATCH changes what it names only
        if strategy is not None:
            changes.fields.add("strategy")
            changes.strategy = strategy
        for key, field in SETTINGS.items():
            value = None if key in data and data[key] is None else self.take(data, key, problems)
            if value is not MISSING and key in data:
                changes.settings[field] = value
        if "callerIdPool" in data:  # null removes the pool
            pool = None if data["callerIdPool"] is None else self.take(data, "callerIdPool", problems)
            if pool is not MISSING:
                changes.fields.add("caller_id_pool")
                changes.caller_id_pool = pool
        changes.outcomes = outcome_values(self, data, problems, clearable=True)
        if changes.outcomes:
            changes.fields.add("outcomes")
        problems.raise_any()
        return changes
