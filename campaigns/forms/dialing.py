"""What a supervisor changes while a campaign runs: its calling hours, time zone, concurrency,
pacing and priority (services.RUNNING_STRATEGY); applied from the dispatcher's next pass."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.forms.builder import ZONES, CallingHoursMixin, _bounded, hours_initial
from campaigns.models import Campaign


class DialingSettingsForm(CallingHoursMixin, DashboardForm):
    time_zone = forms.ChoiceField(label="Time zone of the calling hours", choices=[(z, z) for z in ZONES])
    max_concurrent_calls = _bounded("max_concurrent_calls", label="Calls at the same time")
    calls_per_minute = _bounded("calls_per_minute", required=False, label="New calls per minute at most")
    priority = _bounded("priority", label="Priority")

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any):
        initial = {
            "time_zone": campaign.time_zone,
            "max_concurrent_calls": campaign.max_concurrent_calls,
            "calls_per_minute": campaign.calls_per_minute,
            "priority": campaign.priority,
        } | hours_initial(campaign)
        super().__init__(*args, initial=initial, **kwargs)
        self.add_hour_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.check_hours(data)
        return data

    def strategy(self) -> dict[str, Any]:
        """The changes, in the services' names (only what the person changed)."""
        data = self.cleaned_data
        values = {
            "time_zone": data["time_zone"],
            "max_concurrent_calls": data["max_concurrent_calls"],
            "calls_per_minute": data.get("calls_per_minute") or None,
            "priority": data["priority"],
            "calling_hours": self.calling_hours(),
        }
        changed = set(self.changed_data)
        hours = {n for n in self.fields if n.startswith("hours_")}
        return {k: v for k, v in values.items() if changed & (hours if k == "calling_hours" else {k})}

    def field_for(self, path: str) -> str | None:
        """The field a service's FieldError path belongs to ("strategy.max_concurrent_calls")."""
        parts = path.split(".")
        if parts[:2] == ["strategy", "calling_hours"] and len(parts) > 2 and parts[2].isdigit():
            return self.window_field(int(parts[2]))
        name = parts[1] if parts[0] == "strategy" and len(parts) > 1 else path
        return name if name in self.fields else None
