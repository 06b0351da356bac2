"""Forms of the organization page: its compliance settings, and the confirmation of the
organization-wide pause.

They only shape input; services.organization_update decides (its FieldErrors, named by the
model's fields, come back next to these fields through `forms.errors.attach`).
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from phonenumbers.geodata.locale import LOCALE_DATA

from campaigns.forms.base import DashboardForm
from campaigns.models import Organization
from campaigns.services.organization import SETTINGS_FIELDS

# Regions phonenumbers knows but names in no language of its locale data.
_UNNAMED = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo"}


def region_name(code: str) -> str:
    """A phonenumbers region in English ("United States"); the code itself if it has no name."""
    names = LOCALE_DATA.get(code, {})
    name = names.get("en", "")
    if name.startswith("*"):  # "*xx": the name is kept under the language xx
        name = names.get(name[1:], "")
    return name or _UNNAMED.get(code, code)


def region_label(code: str) -> str:
    """How a region reads on the page and in the history: "United States (US)", or "none"."""
    return f"{region_name(code)} ({code})" if code else "none"


def region_choices() -> list[tuple[str, str]]:
    regions = sorted(phonenumbers.SUPPORTED_REGIONS, key=lambda code: (region_name(code), code))
    return [("", "None: such numbers are refused"), *[(code, region_label(code)) for code in regions]]


class TimeOfDay(forms.TimeInput):
    """A native time picker showing "08:00", not "08:00:00"."""

    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class OrganizationSettingsForm(DashboardForm):
    """The five compliance settings, as a compliance officer reads them, and the billing period
    and quota."""

    recipient_earliest = forms.TimeField(
        label="Earliest time a call may ring",
        widget=TimeOfDay(),
        help_text="In the called person's own time zone, worked out from their number. "
        "US TCPA: not before 08:00. Campaigns can only narrow this window. "
        "Making it earlier may break the law where you call.",
    )
    recipient_latest = forms.TimeField(
        label="Latest time a call may ring",
        widget=TimeOfDay(),
        help_text="In the called person's own time zone. US TCPA: not after 21:00. "
        "Making it later may break the law where you call.",
    )
    allow_ignoring_recipient_time = forms.BooleanField(
        required=False,
        label="Let campaigns switch off the called person's calling window",
        help_text="A campaign may then call only by its own calling hours, whatever the time where "
        "the called person is. Leave this off unless those hours are lawful for everyone the "
        "campaign calls: turning it on may break the law where you call.",
    )
    call_numbers_without_time_zone = forms.BooleanField(
        required=False,
        label="Call numbers whose local time cannot be known",
        help_text="Some numbers, such as international freephone, satellite and some mobile numbers, "
        "reveal no time zone. When on, they are called within the campaign's own calling hours; when "
        "off, they wait, marked as such. Turning it on may put calls outside lawful hours for them.",
    )
    default_region = forms.ChoiceField(
        required=False,
        label="Country of numbers written without a country code",
        help_text="Numbers typed or imported without “+” and a country code (like 415 555 0123) "
        "are read as numbers of this country. With none, such numbers are refused as invalid.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a country code we know: choose one from the list."
        },
    )

    billing_day = forms.IntegerField(
        label="Billing period starts on day",
        widget=forms.NumberInput(attrs={"min": 1, "max": 28, "inputmode": "numeric"}),
        help_text="The day of each month (1 to 28) a new billing period starts, at 00:00 UTC.",
        error_messages={"required": "Enter a day from 1 to 28.", "invalid": "Enter a day from 1 to 28."},
    )
    included_minutes = forms.IntegerField(
        required=False,
        label="Included conversation minutes per period",
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        help_text="Leave empty for no quota.",
        error_messages={"invalid": "Enter a whole number of minutes, or leave it empty."},
    )
    quota_mode = forms.ChoiceField(
        label="When the included minutes are used",
        choices=Organization._meta.get_field("quota_mode").choices,
        help_text="Stopping refuses new calls at the last moment before they leave; calls under way finish.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {field: getattr(organization, field) for field in SETTINGS_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["default_region"].choices = region_choices()


class PauseAllForm(DashboardForm):
    """Pausing stops every campaign at once: a ticked box says the person means it (no script)."""

    confirm = forms.BooleanField(
        label="Yes, stop every campaign from placing calls now",
        error_messages={"required": "Tick this box to confirm: nothing was paused."},
    )
