"""The organization's calendar page: one blackout date, one region rule (a region, the weekdays it
may be called on, one window for them, a note). Services check and store (services.calendar)."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.rules.strategy import WEEKDAY_NAMES, WEEKDAYS


class BlackoutDateForm(DashboardForm):
    day = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Nobody is called on it, in their own time zone.",
    )


class RegionRuleForm(DashboardForm):
    region = forms.CharField(
        label="Region",
        max_length=10,
        help_text="A country (DE) or a country and subdivision (US-FL), as ISO 3166 writes them.",
    )
    days = forms.MultipleChoiceField(
        label="Days calls are allowed",
        choices=[(day, WEEKDAY_NAMES[day]) for day in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Days left unticked: no calls at all.",
    )
    start = forms.CharField(label="From (HH:MM)", max_length=5, initial="08:00")
    end = forms.CharField(label="Until (HH:MM)", max_length=5, initial="20:00")
    note = forms.CharField(label="Note", max_length=200, required=False, help_text="e.g. the law it follows.")

    def rule(self) -> dict[str, Any]:
        """The rule as services.organization_region_rule_add takes it (one window per day)."""
        data = self.cleaned_data
        return {
            "region": data["region"].strip().upper(),
            "windows": [{"day": day, "start": data["start"], "end": data["end"]} for day in data["days"]],
            "note": data.get("note", ""),
        }


def region_rule_field(path: str) -> str | None:
    """The form field a service's error path names: windows.3.start -> start, region -> region."""
    if path.startswith("windows."):
        last = path.rsplit(".", 1)[-1]
        return last if last in ("start", "end") else "days"
    return "days" if path == "windows" else path
