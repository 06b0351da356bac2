"""`GET /campaign/{id}/preflight` (Dialdeck): who a campaign could call under its settings, who not
and why, and when it might finish (rules.preflight)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.common import iso
from campaigns.rules.engine import SEARCH_HORIZON
from campaigns.rules.preflight import Preflight

BY_REASON = "Customers by reason code (the reason codes of customers and of GET /campaign/{id}/customers)."


@extend_schema_serializer(component_name="CampaignPreflight")
class PreflightSerializer(serializers.Serializer):
    """Judged as if the campaign ran now, whatever its status: pending customers callable now,
    later (with why they wait and the earliest time), never under these settings (held, with why),
    skipped at import, without a local caller ID (local-presence pools only), and an estimated
    finish for their first calls at the campaign's concurrency within its calling hours."""

    pending = serializers.IntegerField(help_text="Customers left to call.")
    callableNow = serializers.IntegerField()
    callableLater = serializers.IntegerField(help_text="Waiting for a time the rules allow (see waiting).")
    nextCallableAt = serializers.DateTimeField(
        required=False, help_text="When the first of those may be called."
    )
    waiting = serializers.DictField(child=serializers.IntegerField(), help_text=BY_REASON)
    held = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=f"Never callable within {SEARCH_HORIZON.days} days under these settings: " + BY_REASON,
    )
    skipped = serializers.DictField(
        child=serializers.IntegerField(), help_text="Skipped at import: " + BY_REASON
    )
    withoutLocalCallerId = serializers.IntegerField(
        required=False,
        help_text="Local-presence pools only: callees no usable caller ID matches by area code or region.",
    )
    estimatedFinishAt = serializers.DateTimeField(required=False)
    estimate = serializers.CharField(help_text="What the estimate rests on, or why there is none.")
    problems = serializers.ListField(child=serializers.CharField(), help_text="What to fix, in words.")

    def to_representation(self, found: Preflight) -> dict[str, Any]:
        data: dict[str, Any] = {
            "pending": found.pending,
            "callableNow": found.callable_now,
            "callableLater": found.callable_later,
            "waiting": found.waiting,
            "held": found.held,
            "skipped": found.skipped,
            "estimate": found.estimate,
            "problems": found.problems,
        }
        if found.next_at is not None:
            data["nextCallableAt"] = iso(found.next_at)
        if found.without_local_caller_id is not None:
            data["withoutLocalCallerId"] = found.without_local_caller_id
        if found.finish_at is not None:
            data["estimatedFinishAt"] = iso(found.finish_at)
        return data
