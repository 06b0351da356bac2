"""Dial plan lines in the builder: a caller ID and the customers it calls, one form per line."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns import selectors
from campaigns.forms.base import DashboardForm
from campaigns.forms.builder import PhoneNumberChoice
from campaigns.models import Organization, PhoneNumber


class DialPlanLineForm(DashboardForm):
    """One line of a dial plan: a caller ID and the customers it calls."""

    phone_number = PhoneNumberChoice(
        queryset=PhoneNumber.objects.none(), required=False, label="Caller ID", empty_label="Choose…"
    )
    customers_file = forms.FileField(required=False, label="Upload a CSV file")
    customers_text = forms.CharField(
        required=False,
        label="…or paste CSV rows",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].queryset = selectors.phone_numbers_for(organization)
        # Every line's inputs get their own names for people who hear the page ("…for caller ID 2").
        line = int(self.prefix.rsplit("-", 1)[-1]) + 1 if self.prefix and self.prefix[-1].isdigit() else 1
        self.fields["phone_number"].label = f"Caller ID {line}"
        self.fields["customers_file"].label = f"Upload a CSV file for caller ID {line}"
        self.fields["customers_text"].label = f"…or paste CSV rows for caller ID {line}"

    @property
    def used(self) -> bool:
        return bool(
            self.cleaned_data.get("phone_number") or (self.cleaned_data.get("customers_text") or "").strip()
        )


DialPlanFormSet = forms.formset_factory(DialPlanLineForm, extra=0, min_num=1, validate_min=False)
