"""`callerIdPool`: Dialdeck's optional pool of caller IDs on a campaign (a Vapi client never sends
it), read and written; and the caller-ID fields of our phone-number resource."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.fields import Array, Choice, Object, Text
from campaigns.api.serializers.request import MISSING, RequestSerializer
from campaigns.models import Campaign
from campaigns.rules.caller_ids import HEALTH_WINDOW, REST_BELOW, Mode
from campaigns.services import CallerPoolInput
from campaigns.services.caller_ids import MAX_POOL, MAX_WEIGHT

POOL_DOC = (
    "Dialdeck extension. Per call the dialer picks among the pool's caller IDs and the campaign's "
    "own phoneNumberId (the pool's default) one that is enabled, not rested and under its caps: "
    "the callee's area code, else region, else country, else the default, else any; the least "
    "used among equals. A customer keeps its caller ID across retries while it is usable. "
    "`split` first assigns each customer to a provider account by `weights` (stable per customer) "
    "for an A/B comparison. Each call records why in `callerIdChoice`. Changes only while the "
    "campaign is scheduled or paused; null removes the pool."
)


@extend_schema_serializer(component_name="CallerIdPool")
class CallerIdPoolSerializer(RequestSerializer):
    __doc__ = POOL_DOC

    phoneNumberIds = Array(
        child=Text(),
        max_length=MAX_POOL,
        help_text="Phone numbers (caller IDs) of your organization, of any of its provider accounts.",
    )
    mode = Choice(
        choices=[m.value for m in Mode],
        required=False,
        help_text="local-presence (the default) or split.",
    )
    weights = Object(
        required=False,
        help_text=f"split only: providerAccountId -> weight (0-{MAX_WEIGHT}) for every provider account "
        "of the pool; absent: equal. Groups are lettered A, B, ... in the order the accounts first "
        "appear (the default's first).",
    )

    def to_internal_value(self, data: Any) -> CallerPoolInput:
        problems, data = self.begin(data)
        ids = self.take(data, "phoneNumberIds", problems)
        mode = self.take(data, "mode", problems)
        weights = self.take(data, "weights", problems)
        problems.raise_any()
        return CallerPoolInput(
            phone_number_ids=[] if ids is MISSING else ids,
            mode=Mode.LOCAL_PRESENCE if mode is MISSING else mode,
            weights=None if weights is MISSING else weights,
        )


def pool_out(campaign: Campaign) -> dict[str, Any]:
    """{"callerIdPool": ...} for a campaign with a pool, else {} (one query, only then)."""
    if not campaign.caller_id_mode:
        return {}
    ids = campaign.caller_pool.order_by("position").values_list("phone_number_id", flat=True)
    pool: dict[str, Any] = {"phoneNumberIds": [str(pk) for pk in ids], "mode": campaign.caller_id_mode}
    if campaign.caller_id_mode == Mode.SPLIT:
        pool["weights"] = {str(p): w for p, w in campaign.caller_id_weights}
    return {"callerIdPool": pool}


class PhoneNumberCallerIdFields(serializers.Serializer):
    """The caller-ID fields of our phone-number resource (documentation of the output)."""

    country = serializers.CharField(required=False, help_text="ISO 3166 country, derived from the number.")
    region = serializers.CharField(required=False, help_text="State or province (US-CA), derived.")
    areaCode = serializers.CharField(required=False, help_text="Derived from the number (415).")
    disabled = serializers.BooleanField(help_text="A disabled caller ID is never used, even by calls queued.")
    maxConcurrentCalls = serializers.IntegerField(required=False, help_text="Live calls at most.")
    maxDailyCalls = serializers.IntegerField(
        required=False, help_text="Calls per day at most (the organization's day, from its local midnight)."
    )
    health = serializers.FloatField(
        required=False,
        help_text=f"Answer rate over its last {HEALTH_WINDOW} ended calls (since a rest was lifted).",
    )
    healthCalls = serializers.IntegerField(help_text="How many calls `health` is measured on.")
    restedAt = serializers.DateTimeField(
        required=False,
        help_text=f"Rested automatically when its answer rate fell below {REST_BELOW:.0%} over "
        f"{HEALTH_WINDOW} calls; never used until the rest is lifted.",
    )
    restedReason = serializers.CharField(required=False)
