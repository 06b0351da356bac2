"""What a supervisor changes while a campaign runs: its calling hours, time zone, concurrency,
pacing and priority (services.RUNNING_STRATEGY); applied from the dispatcher's next pass."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.forms.builder import ZONES, _bounded, _clock
from campaigns.models import Campaign
from campaigns.rules.strategy import WEEKDAY_NAMES, WEEKDAYS


class DialingSettingsForm(DashboardForm):
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
        }
        for window in campaign.calling_hours or []:
            day = window["day"]
            if f"hours_{day}_on" not in initial:  # one window per day in this grid, as the builder's
                initial[f"hours_{day}_on"] = True
                initial[f"hours_{day}_start"] = time.fromisoformat(window["start"])
                initial[f"hours_{day}_end"] = time.fromisoformat(window["end"])
        super().__init__(*args, initial=initial, **kwargs)
        for day in WEEKDAYS:
            self.fields[f"hours_{day}_on"] = forms.BooleanField(required=False, label=WEEKDAY_NAMES[day])
            self.fields[f"hours_{day}_start"] = _clock(required=False, label=f"{WEEKDAY_NAMES[day]} from")
            self.fields[f"hours_{day}_end"] = _clock(required=False, label=f"{WEEKDAY_NAMES[day]} to")

    @property
    def hour_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (WEEKDAY_NAMES[d], self[f"hours_{d}_on"], self[f"hours_{d}_start"], self[f"hours_{d}_end"])
            for d in WEEKDAYS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for day in WEEKDAYS:
            if data.get(f"hours_{day}_on"):
                for end in ("start", "end"):
                    if data.get(f"hours_{day}_{end}") is None and f"hours_{day}_{end}" not in self.errors:
                        self.add_error(f"hours_{day}_{end}", "Give a time, or untick the day.")
        return data

    def strategy(self) -> dict[str, Any]:
        """The changes, in the services' names (only what the person changed)."""
        data = self.cleaned_data
        values = {
            "time_zone": data["time_zone"],
            "max_concurrent_calls": data["max_concurrent_calls"],
            "calls_per_minute": data.get("calls_per_minute") or None,
            "priority": data["priority"],
            "calling_hours": [
                {
                    "day": d,
                    "start": f"{data[f'hours_{d}_start']:%H:%M}",
                    "end": f"{data[f'hours_{d}_end']:%H:%M}",
                }
                for d in WEEKDAYS
                if data.get(f"hours_{d}_on")
            ],
        }
        changed = set(self.changed_data)
        hours = {n for n in self.fields if n.startswith("hours_")}
        return {k: v for k, v in values.items() if changed & (hours if k == "calling_hours" else {k})}

    def field_for(self, path: str) -> str | None:
        """The field a service's FieldError path belongs to ("strategy.max_concurrent_calls")."""
        parts = path.split(".")
        if parts[:2] == ["strategy", "calling_hours"] and len(parts) > 2 and parts[2].isdigit():
            days = [d for d in WEEKDAYS if self.cleaned_data.get(f"hours_{d}_on")]
            index = int(parts[2])
            return f"hours_{days[index]}_start" if index < len(days) else None
        name = parts[1] if parts[0] == "strategy" and len(parts) > 1 else path
        return name if name in self.fields else None
