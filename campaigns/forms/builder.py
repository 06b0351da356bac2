"""The campaign builder's forms: the campaign itself, its calling-hours grid, and dial plan lines.

The form shapes what people type into the values services take (CampaignInput,
CampaignChanges, the dialing strategy in model field names); the rules live in
the services, whose FieldErrors (named by the services' snake_case fields, which are the
form's own names but for a few) `field_for` puts back next to the right input. Bounds,
defaults and weekdays come from the one table of the strategy's rules (rules.strategy).
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from django import forms

from campaigns import selectors, services
from campaigns.forms.base import DashboardForm, MomentField
from campaigns.models import Campaign, CampaignStatus, DialingOrder, Organization, PhoneNumber
from campaigns.rules.strategy import (
    BOUNDS,
    DEFAULT_RETRY_DELAYS,
    DEFAULTS,
    FIELDS,
    MAX_RETRY_DELAY,
    TIME_ZONES,
    WEEKDAY_NAMES,
    WEEKDAYS,
    is_time_zone,
)

# The zones accepted (rules.strategy.TIME_ZONES), places first, then UTC, then the fixed Etc/ offsets.
ZONES = sorted(TIME_ZONES, key=lambda zone: (zone.startswith("Etc/"), zone == "UTC", zone))
RETRIES = {
    "busy": "retry_busy",
    "noAnswer": "retry_no_answer",
    "voicemail": "retry_voicemail_delay",
    "failed": "retry_failed",
}
RETRY_LABELS = {"busy": "Busy", "noAnswer": "No answer", "voicemail": "Voicemail", "failed": "Failed"}
AGENTS = {"assistant": "assistant_id", "workflow": "workflow_id", "squad": "squad_id"}
# The fields that change only while the campaign is scheduled (services.campaign_update).
SCHEDULED_ONLY = ("agent_kind", "agent_id", "phone_number", "earliest_at", "latest_at")
# The services' names of what the form calls otherwise.
FIELD_FOR = {"target": "agent_id", "phone_number_id": "phone_number", "schedule": "earliest_at"}


def _bounded(field: str, **kwargs: Any) -> forms.IntegerField:
    low, high = BOUNDS[field]
    return forms.IntegerField(min_value=low, max_value=high, **kwargs)


def _clock(**kwargs: Any) -> forms.TimeField:
    return forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), **kwargs)


def _moment(**kwargs: Any) -> forms.DateTimeField:
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    return MomentField(widget=widget, required=False, **kwargs)


def as_minutes(seconds: int) -> Decimal:
    """Seconds as minutes with at most two decimals, whole numbers without any ("10", "0.02")."""
    minutes = (Decimal(int(seconds)) / 60).quantize(Decimal("0.01"))
    return Decimal(int(minutes)) if minutes == int(minutes) else minutes


def _minutes(label: str, seconds: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_value=MAX_RETRY_DELAY // 60,
        decimal_places=2,
        initial=as_minutes(seconds),
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


class PhoneNumberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: PhoneNumber) -> str:
        return f"{obj.number} · {obj.name}" if obj.name else obj.number


class CallingHoursMixin:
    """The calling-hours grid (one window per weekday) of the builder and the dialing settings:
    its fields, its rows for the template, its check, and the services' windows back to fields."""

    def add_hour_fields(self) -> None:
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

    def check_hours(self, data: dict[str, Any]) -> None:
        for day in WEEKDAYS:
            if data.get(f"hours_{day}_on"):
                for end in ("start", "end"):
                    if data.get(f"hours_{day}_{end}") is None and f"hours_{day}_{end}" not in self.errors:
                        self.add_error(f"hours_{day}_{end}", "Give a time, or untick the day.")

    def calling_hours(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        return [
            {"day": d, "start": f"{data[f'hours_{d}_start']:%H:%M}", "end": f"{data[f'hours_{d}_end']:%H:%M}"}
            for d in WEEKDAYS
            if data.get(f"hours_{d}_on")
        ]

    def window_field(self, index: int) -> str | None:
        """The form field of the index-th calling-hours window (as `calling_hours()` lists them)."""
        days = [d for d in WEEKDAYS if self.cleaned_data.get(f"hours_{d}_on")]
        return f"hours_{days[index]}_start" if index < len(days) else None


def hours_initial(campaign: Campaign) -> dict[str, Any]:
    """The grid's initial values from a campaign's stored windows (one per day; the first wins)."""
    initial: dict[str, Any] = {}
    for window in campaign.calling_hours or []:
        day = window["day"]
        if f"hours_{day}_on" not in initial:
            initial[f"hours_{day}_on"] = True
            initial[f"hours_{day}_start"] = time.fromisoformat(window["start"])
            initial[f"hours_{day}_end"] = time.fromisoformat(window["end"])
    return initial


class CampaignForm(CallingHoursMixin, DashboardForm):
    """One campaign, created or edited. Customers are read separately (forms.customers)."""

    name = forms.CharField(max_length=255)
    agent_kind = forms.ChoiceField(
        label="Voice agent",
        choices=[("assistant", "Assistant"), ("workflow", "Workflow"), ("squad", "Squad")],
        widget=forms.RadioSelect,
        initial="assistant",
    )
    agent_id = forms.CharField(
        label="Voice agent id",
        max_length=100,
        help_text="The assistant's, workflow's or squad's id at your provider.",
    )
    caller_mode = forms.ChoiceField(
        label="Caller ID",
        choices=[
            ("single", "One caller ID for everyone"),
            ("dial_plan", "A dial plan: several caller IDs, each with its own customers"),
        ],
        widget=forms.RadioSelect,
        initial="single",
    )
    phone_number = PhoneNumberChoice(
        queryset=PhoneNumber.objects.none(),
        required=False,
        label="Caller ID to call from",
        empty_label="Choose…",
    )
    pool_mode = forms.ChoiceField(
        label="Caller-ID pool",
        choices=[
            ("", "No pool: every call from the caller ID above"),
            (
                "local-presence",
                "Local presence: per call, a number of the callee's area code, region or country",
            ),
            ("split", "Split across providers: customers divided between provider accounts by weight (A/B)"),
        ],
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    pool_numbers = forms.ModelMultipleChoiceField(
        queryset=PhoneNumber.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="More caller IDs in the pool",
        help_text="The caller ID above is the pool's default. Disabled and rested numbers are skipped.",
    )
    customers_file = forms.FileField(required=False, label="Upload a CSV file")
    customers_text = forms.CharField(
        required=False,
        label="…or paste CSV rows",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="First line: the columns, e.g. number,name,email,externalId,extension. "
        "Any other column becomes a variable for the assistant.",
    )
    drop_bad_rows = forms.BooleanField(required=False, label="Drop the bad rows and save the others")
    earliest_at = _moment(label="Not before")
    latest_at = _moment(label="Not after", help_text="Customers not reached by then are skipped.")
    auto_start = forms.BooleanField(
        required=False,
        label="Start automatically at the scheduled time",
        help_text="Off: the campaign waits until someone presses Start.",
    )
    time_zone = forms.ChoiceField(label="Time zone of the calling hours", choices=[(z, z) for z in ZONES])
    respect_recipient_time_zone = forms.BooleanField(
        required=False,
        initial=DEFAULTS["respect_recipient_time_zone"],
        label="Respect each callee's local time",
    )
    recipient_earliest = _clock(required=False, label="Callee's local time from")
    recipient_latest = _clock(required=False, label="to")
    max_attempts = _bounded("max_attempts", initial=DEFAULTS["max_attempts"], label="Attempts per customer")
    retry_voicemail = forms.BooleanField(
        required=False, initial=DEFAULTS["retry_voicemail"], label="Call again after reaching voicemail"
    )
    max_concurrent_calls = _bounded(
        "max_concurrent_calls", initial=DEFAULTS["max_concurrent_calls"], label="Calls at the same time"
    )
    calls_per_minute = _bounded("calls_per_minute", required=False, label="New calls per minute at most")
    dialing_order = forms.ChoiceField(choices=DialingOrder.choices, label="Dialing order")
    max_ring_seconds = _bounded(
        "max_ring_seconds", initial=DEFAULTS["max_ring_seconds"], label="Ring for at most (seconds)"
    )
    priority = _bounded(
        "priority",
        initial=DEFAULTS["priority"],
        label=f"Priority ({BOUNDS['priority'][0]} low – {BOUNDS['priority'][1]} high)",
    )
    machine_detection = forms.BooleanField(required=False, label="Detect answering machines")

    def __init__(
        self, *args: Any, organization: Organization, campaign: Campaign | None = None, **kwargs: Any
    ):
        self.organization, self.campaign = organization, campaign
        if campaign is not None:
            kwargs.setdefault("initial", initial_for(campaign))
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].queryset = selectors.phone_numbers_for(organization)
        self.fields["pool_numbers"].queryset = selectors.phone_numbers_for(organization).select_related(
            "provider_account"
        )
        self.fields["pool_numbers"].label_from_instance = lambda n: f"{n.number} ({n.provider_account.name})"
        # Split weights, one per provider account (only the accounts of the pool's numbers count).
        self.weight_accounts = []
        stored = dict(campaign.caller_id_weights) if campaign is not None else {}
        for i, account in enumerate(selectors.provider_accounts_for(organization)):
            name = f"weight_{i}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=1000,
                initial=stored.get(str(account.pk), 1),
                label=f"Weight of {account.name}",
            )
            self.weight_accounts.append((name, account))
        zone = organization.time_zone
        self.fields["time_zone"].initial = zone if is_time_zone(zone) else DEFAULTS["time_zone"]
        self.add_hour_fields()
        for key, seconds in DEFAULT_RETRY_DELAYS.items():
            self.fields[RETRIES[key]] = _minutes(f"After {RETRY_LABELS[key].lower()} (minutes)", seconds)
        if campaign is not None:
            self.fields["caller_mode"].disabled = True
            self.fields["customers_text"].label = "…or paste CSV rows"
            if campaign.status != CampaignStatus.SCHEDULED:
                for name in SCHEDULED_ONLY:
                    self.fields[name].disabled = True

    @property
    def hour_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (WEEKDAY_NAMES[d], self[f"hours_{d}_on"], self[f"hours_{d}_start"], self[f"hours_{d}_end"])
            for d in WEEKDAYS
        ]

    @property
    def weight_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _ in self.weight_accounts]

    def caller_pool(self) -> services.CallerPoolInput | None:
        """The pool chosen (None: no pool), as the services take it."""
        data = self.cleaned_data
        mode = data.get("pool_mode") or ""
        if not mode:
            return None
        numbers = list(data.get("pool_numbers") or [])
        weights = None
        if mode == "split":
            used = {str(n.provider_account_id) for n in numbers}
            if data.get("phone_number") is not None:
                used.add(str(data["phone_number"].provider_account_id))
            elif self.campaign is not None and self.campaign.phone_number is not None:
                used.add(str(self.campaign.phone_number.provider_account_id))
            weights = {
                str(account.pk): 1 if data.get(name) is None else data[name]
                for name, account in self.weight_accounts
                if str(account.pk) in used
            }
        return services.CallerPoolInput(
            phone_number_ids=[str(n.pk) for n in numbers], mode=mode, weights=weights
        )

    @property
    def pool_changed(self) -> bool:
        names = {"pool_mode", "pool_numbers", *(name for name, _ in self.weight_accounts)}
        return bool(names & set(self.changed_data))

    @property
    def retry_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in RETRIES.values()]

    @property
    def uses_dial_plan(self) -> bool:
        if self.campaign is not None:
            return self.campaign.uses_dial_plan
        return (self.data.get("caller_mode") if self.is_bound else None) == "dial_plan"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.check_hours(data)
        needs_number = not self.uses_dial_plan and not self.fields["phone_number"].disabled
        if needs_number and data.get("phone_number") is None and "phone_number" not in self.errors:
            self.add_error("phone_number", "Choose the caller ID to call from.")
        return data

    # -- what the services take ---------------------------------------------------------------

    def target(self) -> tuple[str, str]:
        return AGENTS[self.cleaned_data["agent_kind"]], self.cleaned_data["agent_id"].strip()

    def strategy(self, *, changed_only: bool = False) -> dict[str, Any]:
        """The dialing strategy in model field names; with `changed_only`, what the person changed."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data[name]
            for name in (
                "time_zone",
                "respect_recipient_time_zone",
                "max_attempts",
                "retry_voicemail",
                "max_concurrent_calls",
                "dialing_order",
                "max_ring_seconds",
                "priority",
                "machine_detection",
                "auto_start",
            )
        }
        values["calls_per_minute"] = data.get("calls_per_minute") or None
        values["recipient_earliest"] = data.get("recipient_earliest")
        values["recipient_latest"] = data.get("recipient_latest")
        values["calling_hours"] = self.calling_hours()
        values["retry_delays"] = {key: int(round(data[name] * 60)) for key, name in RETRIES.items()}
        if not changed_only:
            return values
        changed = set(self.changed_data)
        groups = {
            "calling_hours": {n for n in self.fields if n.startswith("hours_")},
            "retry_delays": set(RETRIES.values()),
            "recipient_earliest": {"recipient_earliest", "recipient_latest"},
            "recipient_latest": {"recipient_earliest", "recipient_latest"},
        }
        return {key: value for key, value in values.items() if changed & groups.get(key, {key})}

    def field_for(self, path: str) -> str | None:
        """The field a service's FieldError path belongs to, calling-hours windows included."""
        parts = path.split(".")
        if parts[:2] == ["strategy", "calling_hours"] and len(parts) > 2 and parts[2].isdigit():
            return self.window_field(int(parts[2]))
        return field_for(path)


def field_for(path: str) -> str | None:
    """The builder field a service's FieldError path belongs to: a strategy setting's is named
    like it ("strategy.max_attempts": max_attempts), a retry delay's by its outcome."""
    parts = path.split(".")
    if parts[0] == "caller_id_pool":
        return "pool_numbers" if parts[1:2] == ["phone_number_ids"] else "pool_mode"
    if parts[0] == "strategy" and len(parts) > 1:
        if parts[1] == "retry_delays":
            return RETRIES.get(parts[2]) if len(parts) > 2 else None
        return parts[1]
    return FIELD_FOR.get(path, path)


def initial_for(campaign: Campaign) -> dict[str, Any]:
    """The form's initial values from a stored campaign."""
    kind, value = next(
        ((k, getattr(campaign, f)) for k, f in AGENTS.items() if getattr(campaign, f)), ("assistant", "")
    )
    initial: dict[str, Any] = {
        "name": campaign.name,
        "agent_kind": kind,
        "agent_id": value,
        "caller_mode": "dial_plan" if campaign.uses_dial_plan else "single",
        "phone_number": campaign.phone_number_id,
        "pool_mode": campaign.caller_id_mode,
        "pool_numbers": list(campaign.caller_pool.values_list("phone_number_id", flat=True)),
        "earliest_at": campaign.earliest_at,
        "latest_at": campaign.latest_at,
        "calls_per_minute": campaign.calls_per_minute,
    }
    for name in FIELDS:
        if name not in (
            "calling_hours",
            "retry_delays",
            "calls_per_minute",
            "capacity_wait_seconds",
            "max_duration_seconds",
        ):
            initial[name] = getattr(campaign, name)
    delays = {**DEFAULT_RETRY_DELAYS, **(campaign.retry_delays or {})}
    for key, name in RETRIES.items():
        initial[name] = as_minutes(delays[key])
    return initial | hours_initial(campaign)


def split_days(campaign: Campaign) -> bool:
    """Whether the stored calling hours have several windows on one day (the grid shows one per day)."""
    days = [w["day"] for w in campaign.calling_hours or []]
    return len(days) != len(set(days))
