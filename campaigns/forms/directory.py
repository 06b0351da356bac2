"""Forms of the organization's settings pages: do-not-call, caller IDs, providers, API keys, members.

They only shape input; the services decide (and their FieldErrors come back
next to these fields through `forms.errors.attach`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from campaigns import jsonlimits, selectors
from campaigns.forms.base import DashboardForm
from campaigns.models import Organization, ProviderAccount, ProviderKind, Role
from campaigns.models.telephony import SIMULATED_MIX as DEFAULT_MIX


def _compact(number: str) -> str:
    """People type "+1 (415) 555-0123"; the services take "+14155550123"."""
    return re.sub(r"[\s().-]", "", number)


class DoNotCallAddForm(DashboardForm):
    number = forms.CharField(max_length=40, help_text="In international format, e.g. +1 415 555 0123.")
    note = forms.CharField(max_length=200, required=False)

    def clean_number(self) -> str:
        return _compact(self.cleaned_data["number"])


class DoNotCallImportForm(DashboardForm):
    file = forms.FileField(label="CSV file", help_text="A number column, and optionally a note column.")


class CallerIdForm(DashboardForm):
    number = forms.CharField(max_length=30, help_text="In international format, e.g. +1 415 555 0100.")
    name = forms.CharField(max_length=100, required=False, label="Label")
    provider_account = forms.ModelChoiceField(
        queryset=ProviderAccount.objects.none(), label="Provider account"
    )
    provider_phone_number_id = forms.CharField(
        max_length=100,
        required=False,
        label="The provider's id for this number",
        help_text="Vapi's phoneNumberId.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["provider_account"].queryset = selectors.provider_accounts_for(organization)

    def clean_number(self) -> str:
        return _compact(self.cleaned_data["number"])


MIX_LABELS = {
    "answered": "Answered",
    "noAnswer": "No answer",
    "busy": "Busy",
    "voicemail": "Voicemail",
    "failed": "Failed",
    "optOut": "Opt-out",
}


class ProviderAccountForm(DashboardForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(
        choices=ProviderKind.choices, widget=forms.RadioSelect, initial=ProviderKind.SIMULATED
    )
    base_url = forms.URLField(required=False, label="Base URL", help_text="e.g. https://api.vapi.ai")
    api_key = forms.CharField(
        required=False, max_length=500, label="API key", widget=forms.PasswordInput(render_value=False)
    )
    seed = forms.IntegerField(
        required=False,
        initial=1,
        min_value=0,
        max_value=jsonlimits.INT_MAX,  # kept in the account's JSON settings
        help_text="Same seed, same outcomes.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, weight in DEFAULT_MIX.items():
            self.fields[f"mix_{key}"] = forms.IntegerField(
                min_value=0, max_value=1000, initial=weight, label=f"{MIX_LABELS[key]} (weight)"
            )

    @property
    def mix_fields(self) -> list[forms.BoundField]:
        return [self[f"mix_{key}"] for key in DEFAULT_MIX]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == ProviderKind.SIMULATED and not any(data.get(f"mix_{k}") for k in DEFAULT_MIX):
            self.add_error(None, "Give at least one outcome a weight above zero.")
        if not self.errors:  # the settings are stored as JSON: the same limits as the API's
            for problem in jsonlimits.problems(self.settings(), "settings"):
                self.add_error(None, str(problem))
        return data

    def settings(self) -> dict:
        data = self.cleaned_data
        if data["kind"] != ProviderKind.SIMULATED:
            return {}
        return {"seed": data.get("seed") or 0, "mix": {k: data[f"mix_{k}"] for k in DEFAULT_MIX}}


class ApiKeyForm(DashboardForm):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. “CRM sync”.")


class MemberAddForm(DashboardForm):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="At least 8 characters, not a common one. Share it privately.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(DashboardForm):
    role = forms.ChoiceField(choices=Role.choices)
