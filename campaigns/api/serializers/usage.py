"""GET /organization/usage (a Dialdeck extension): the organization's usage in its billing period
and its quota, named as Cobbery names them (UsedConversationalMinutes, IncludedConversationalMinutes)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from campaigns.api.serializers.common import iso
from campaigns.rules.usage import QuotaMode
from campaigns.selectors import OrganizationUsage


class CostSerializer(serializers.Serializer):
    """A sum of costs in one unit: a currency (ISO 4217, "USD") or a provider's own ("credits")."""

    amount = serializers.FloatField()
    unit = serializers.CharField()


class OrganizationUsageSerializer(serializers.Serializer):
    """Usage from periodStart (inclusive) to periodEnd (exclusive), and where the quota stands."""

    periodStart = serializers.DateTimeField(help_text="00:00 UTC on the billing day of the month.")
    periodEnd = serializers.DateTimeField(help_text="Exclusive: the next period's start.")
    billingDayOfMonth = serializers.IntegerField(min_value=1, max_value=28)
    calls = serializers.IntegerField(help_text="Calls that left for a provider in the period.")
    usedConversationalMinutes = serializers.FloatField()
    includedConversationalMinutes = serializers.IntegerField(allow_null=True, help_text="null: no quota.")
    remainingConversationalMinutes = serializers.FloatField(allow_null=True, help_text="Never negative.")
    quotaMode = serializers.ChoiceField(choices=[m.value for m in QuotaMode])
    quotaSpent = serializers.BooleanField(help_text="Included minutes set, and all used.")
    quotaWarning = serializers.BooleanField(help_text="Spent, in warn or pause mode.")
    dialingRefused = serializers.BooleanField(
        help_text="Spent in pause mode: no new call passes the last gate until the next period."
    )
    costs = CostSerializer(many=True, help_text="Per unit; units are never added together.")

    def to_representation(self, instance: OrganizationUsage) -> dict[str, Any]:
        quota = instance.quota
        return {
            "periodStart": iso(instance.period.start),
            "periodEnd": iso(instance.period.end),
            "billingDayOfMonth": instance.period.start.day,
            "calls": instance.calls,
            "usedConversationalMinutes": round(quota.used_minutes, 2),
            "includedConversationalMinutes": quota.included_minutes,
            "remainingConversationalMinutes": None
            if quota.remaining_minutes is None
            else round(quota.remaining_minutes, 2),
            "quotaMode": quota.mode.value,
            "quotaSpent": quota.spent,
            "quotaWarning": quota.warn,
            "dialingRefused": quota.refuses_calls,
            "costs": [{"amount": float(cost.amount), "unit": cost.unit} for cost in instance.costs],
        }
