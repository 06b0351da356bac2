"""The calls list's filters: what a supervisor narrows the calls to, each checked with its own error.

Dates are days in the organization's zone (the views activate it): "from" its midnight, "to" the
midnight after it, so a one-day range holds the whole day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from campaigns.forms.base import DashboardForm
from campaigns.models import CallStatus, Campaign, PhoneNumber, ProviderAccount
from campaigns.selectors.calls import OUTCOME_FILTERS
from campaigns.selectors.dashboard import OUTCOME_LABELS

OBJECTIVE_CHOICES = [
    ("", "Any result"),
    ("met", "Objective met"),
    ("not-met", "Objective not met"),
    ("unknown", "No result"),
]

# The calls list's sorts (selectors.calls.CALL_SORTS, both ways), for narrow screens where the
# sortable headers are hidden, and as the whitelist a URL's call_sort is checked against.
SORT_CHOICES = [
    ("-started", "Newest first"),
    ("started", "Oldest first"),
    ("-duration", "Longest first"),
    ("duration", "Shortest first"),
    ("-cost", "Most expensive first"),
    ("cost", "Cheapest first"),
]


class CallFilterForm(DashboardForm):
    call_q = forms.CharField(label="Number, name or external id", required=False, max_length=100)
    call_status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *CallStatus.choices]
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "Any outcome")]
        + [(o.value, OUTCOME_LABELS.get(o, "Opted out")) for o in OUTCOME_FILTERS],
    )
    ended_reason = forms.CharField(label="Ended reason (exact)", required=False, max_length=200)
    call_objective = forms.ChoiceField(label="Objective", required=False, choices=OBJECTIVE_CHOICES)
    call_from = forms.DateField(
        label="From (day)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    call_to = forms.DateField(
        label="To (day, included)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    provider = forms.ChoiceField(label="Provider", required=False)
    caller_id = forms.ChoiceField(label="Caller ID", required=False)
    call_sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization_id = campaign.organization_id

        def accounts() -> list[tuple[str, str]]:
            rows = ProviderAccount.objects.filter(organization_id=organization_id, deleted_at__isnull=True)
            return [("", "Any provider")] + [
                (str(pk), name) for pk, name in rows.order_by("name").values_list("pk", "name")
            ]

        # Read only when shown or when a provider is asked for: the campaign page's live rows,
        # which build this form on every refresh, cost no query for it.
        self.fields["provider"].choices = accounts

        def caller_ids() -> list[tuple[str, str]]:
            # Every caller ID of the organization, retired ones too: old calls were made from them.
            rows = PhoneNumber.objects.filter(organization_id=organization_id).order_by("number", "pk")
            return [("", "Any caller ID")] + [
                (str(pk), f"{number} (retired)" if deleted else number)
                for pk, number, deleted in rows.values_list("pk", "number", "deleted_at")
            ]

        self.fields["caller_id"].choices = caller_ids

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("call_from"), data.get("call_to")
        if since and until and until < since:
            self.add_error("call_to", "The last day comes on or after the first day.")
        return data

    def filters(self) -> dict[str, Any]:
        """The selector's filters (selectors.campaign_calls) from the fields that are valid."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        zone = timezone.get_current_timezone()

        def midnight(day: Any) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        valid = {name: value for name, value in data.items() if name not in self.errors}
        return {
            "q": (valid.get("call_q") or "").strip() or None,
            "status": valid.get("call_status") or None,
            "outcome": valid.get("outcome") or None,
            "ended_reason": (valid.get("ended_reason") or "").strip() or None,
            "objective": valid.get("call_objective") or None,
            "since": midnight(valid["call_from"]) if valid.get("call_from") else None,
            "until": midnight(valid["call_to"] + timedelta(days=1)) if valid.get("call_to") else None,
            "provider_account_id": valid.get("provider") or None,
            "phone_number_id": valid.get("caller_id") or None,
        }
