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
from campaigns.rules import provider_settings as provider_rules


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


class CallerIdCapsForm(DashboardForm):
    """A caller ID's caps (empty: no cap); its service checks them and names the field."""

    max_concurrent_calls = forms.IntegerField(required=False, label="Live calls at most")
    max_daily_calls = forms.IntegerField(
        required=False, label="Calls per day at most (organization's time zone)"
    )

    def __init__(self, *args: Any, prefix_pk: object = "", **kwargs: Any) -> None:
        super().__init__(*args, auto_id=f"id_caps_{prefix_pk}_%s", **kwargs)


MIX_LABELS = {
    "answered": "Answered",
    "noAnswer": "No answer",
    "busy": "Busy",
    "voicemail": "Voicemail",
    "failed": "Failed",
    "optOut": "Opt-out",
}


def _setting_field(setting: provider_rules.Setting) -> forms.Field:
    """A form field for one provider setting; the rules check the value (services refuse it)."""
    common = {"required": False, "label": setting.label, "help_text": setting.help}
    if setting.choices:
        choices = [("", "—"), *((choice, choice) for choice in setting.choices)]
        return forms.ChoiceField(choices=choices, **common)
    widget = forms.Textarea(attrs={"rows": 3}) if setting.long else None
    return forms.CharField(max_length=setting.max_length, strip=True, widget=widget, **common)


class ProviderSettingsMixin:
    """The credentials and the per-kind settings (campaigns.rules.provider_settings.FIELDS)."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def add_provider_fields(self, kinds: list[str]) -> None:
        self.fields["base_url"] = forms.URLField(
            required=False,
            label="Base URL",
            help_text="Empty: the provider's own API (Vapi needs one).",
        )
        self.fields["api_key"] = forms.CharField(
            required=False,
            max_length=500,
            label="API key or auth token",
            help_text="Stored encrypted. Twilio: the Auth Token (or an API key's secret).",
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        )
        self.fields["webhook_secret"] = forms.CharField(
            required=False,
            max_length=500,
            label="Webhook signing secret",
            help_text="ElevenLabs: the post-call webhook's HMAC secret. Stored encrypted.",
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        )
        for kind in kinds:
            for setting in provider_rules.fields_for(kind):
                self.fields[setting.name] = _setting_field(setting)

    def settings_fields(self, kind: str) -> list[forms.BoundField]:
        return [self[setting.name] for setting in provider_rules.fields_for(kind)]  # type: ignore[index]

    def kind_settings(self, kind: str) -> dict[str, str]:
        """The settings of `kind` that were filled in."""
        data = self.cleaned_data
        return {s.name: data[s.name] for s in provider_rules.fields_for(kind) if data.get(s.name)}


class ProviderAccountForm(ProviderSettingsMixin, DashboardForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(
        choices=ProviderKind.choices, widget=forms.RadioSelect, initial=ProviderKind.SIMULATED
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
        self.add_provider_fields(list(provider_rules.FIELDS))
        for key, weight in DEFAULT_MIX.items():
            self.fields[f"mix_{key}"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=1000,
                initial=weight,
                label=f"{MIX_LABELS[key]} (weight)",
            )  # read for the simulated kind only

    @property
    def mix_fields(self) -> list[forms.BoundField]:
        return [self[f"mix_{key}"] for key in DEFAULT_MIX]

    @property
    def kind_fieldsets(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind, its label, its settings' fields) for each kind that has settings."""
        labels = dict(ProviderKind.choices)
        return [(kind, labels[kind], self.settings_fields(kind)) for kind in provider_rules.FIELDS]

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
            return self.kind_settings(data["kind"])
        return {"seed": data.get("seed") or 0, "mix": {k: data.get(f"mix_{k}") or 0 for k in DEFAULT_MIX}}


class ProviderAccountEditForm(ProviderSettingsMixin, DashboardForm):
    """An account's name, base URL, settings of its kind and new credentials (empty: kept)."""

    name = forms.CharField(max_length=100)

    def __init__(self, *args: Any, account: ProviderAccount, **kwargs: Any):
        initial = {"name": account.name, "base_url": account.base_url, **account.settings}
        super().__init__(*args, initial=initial, **kwargs)
        self.account = account
        self.add_provider_fields([account.kind])
        self.fields["api_key"].help_text = "Empty: keep the stored one. " + self.fields["api_key"].help_text
        self.fields["webhook_secret"].help_text = "Empty: keep the stored one."


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
