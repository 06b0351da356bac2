"""The dashboard's forms for a re-run (whom to call again) and a recurrence (how a campaign
repeats). They read the values; the services decide (their FieldErrors come back next to the
field they name, forms.errors.attach)."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.forms.builder import ZONES
from campaigns.rules.recurrence import FREQUENCIES, MAX_RUNS
from campaigns.rules.rerun import GROUPS, LABELS


class RerunForm(DashboardForm):
    """Whom to call again, each group with how many customers are in it, and the new name."""

    who = forms.MultipleChoiceField(
        label="Call again",
        choices=[(group, LABELS[group]) for group in GROUPS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one group of customers to call again."},
    )
    name = forms.CharField(label="Name of the new campaign", max_length=255, required=False)

    def __init__(self, *args: Any, counts: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts = counts
        self.fields["who"].choices = [(g, f"{LABELS[g]}: {counts.get(g, 0)}") for g in GROUPS]

    def chosen_total(self) -> int:
        """Customers the groups chosen hold (the confirmation's count)."""
        return sum(self.counts.get(group, 0) for group in self.cleaned_data.get("who", []))


class RecurrenceForm(DashboardForm):
    frequency = forms.ChoiceField(label="Repeat", choices=[(f, f.title()) for f in FREQUENCIES])
    time_zone = forms.ChoiceField(label="Time zone", choices=[(z, z) for z in ZONES])
    at = forms.TimeField(label="Start each run at", widget=forms.TimeInput(attrs={"type": "time"}))
    ends_on = forms.DateField(
        label="Last day",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="No run after this day. Give it, a number of runs, or both.",
    )
    max_runs = forms.IntegerField(
        label="Number of runs",
        required=False,
        min_value=MAX_RUNS[0],
        max_value=MAX_RUNS[1],
        help_text="This campaign included.",
    )
