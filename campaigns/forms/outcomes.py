"""The dashboard's form of a campaign's outcome settings: objective, analysis schema (JSON),
outcome rules (JSON, as stored: snake_case keys), opt-out on hang-up, callbacks, the voicemail
plan, the automatic pause and callbacks from callees (inbound calls). It reads;
services.outcome_settings decides, and each of its errors comes back next to the field it names
(`attach_outcome_errors`)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.models import Campaign
from campaigns.rules.analysis import OBJECTIVE_LENGTH
from campaigns.rules.inbound import DEFAULT_MODE as INBOUND_DEFAULT_MODE
from campaigns.rules.inbound import MESSAGE_LENGTH as INBOUND_MESSAGE_LENGTH
from campaigns.rules.outcome_plan import VOICEMAIL_ACTIONS, VOICEMAIL_THEN
from campaigns.services import FieldError
from campaigns.services.outcome_settings import OUTCOME_FIELDS


class PrettyJSON(forms.JSONField):
    """A JSON text box that shows its value indented; empty means none."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str) or value is None:
            return value or ""
        return json.dumps(value, indent=2, ensure_ascii=False)


def _json(label: str, help_text: str) -> PrettyJSON:
    return PrettyJSON(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
    )


class OutcomeSettingsForm(DashboardForm):
    objective = forms.CharField(
        label="Objective",
        required=False,
        max_length=OBJECTIVE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    analysis_schema = _json(
        "Analysis schema",
        'A JSON Schema of an object, e.g. {"type": "object", "properties": {…}}. Empty: none.',
    )
    objective_field = forms.CharField(
        label="Objective field",
        required=False,
        max_length=260,
        help_text="The boolean property that says the objective was met (default objectiveMet).",
    )
    outcome_rules = _json(
        "Outcome rules",
        'An array, first match decides, e.g. [{"when": {"objective_met": true}, "then": "completed"}].',
    )
    hang_up_is_opt_out = forms.BooleanField(label="A quick hang-up is an opt-out", required=False)
    hang_up_opt_out_seconds = forms.IntegerField(label="Hang-up within (seconds)")
    callback_field = forms.CharField(
        label="Callback field",
        required=False,
        max_length=260,
        help_text="The property with the time the callee asked to be called back (default callbackAt).",
    )
    max_callbacks = forms.IntegerField(label="Callbacks per customer")
    voicemail_action = forms.ChoiceField(
        label="On an answering machine",
        required=False,
        choices=[
            ("", "The provider's default"),
            *[(a, a.replace("-", " ").capitalize()) for a in VOICEMAIL_ACTIONS],
        ],
    )
    voicemail_message = forms.CharField(
        label="Message to leave", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    voicemail_recording_url = forms.CharField(label="…or a recording's URL", required=False)
    voicemail_then = forms.ChoiceField(
        label="Then", required=False, choices=[(t, t.capitalize()) for t in VOICEMAIL_THEN]
    )
    auto_pause_enabled = forms.BooleanField(label="Pause by itself when the provider fails", required=False)
    auto_pause_consecutive = forms.IntegerField(label="Failures in a row")
    auto_pause_window = forms.IntegerField(label="Over the last (calls)")
    auto_pause_error_rate = forms.IntegerField(label="Failure rate (%)")
    inbound_mode = forms.ChoiceField(
        label="When a callee calls back",
        required=False,  # a form without it (an older page) keeps the default: reject
        choices=[("reject", "Reject, saying the message below"), ("route", "Route to the campaign's agent")],
        help_text="Recognised by number: the latest campaign that called them from this caller ID "
        "within 30 days. The agent is given their name, variables and last outcome.",
    )
    inbound_rejection_message = forms.CharField(
        label="Rejection message",
        required=False,
        max_length=INBOUND_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Said before hanging up. Empty: the call is rejected at once (busy).",
    )
    inbound_route_do_not_call = forms.BooleanField(
        label="Route callers on the do-not-call list too",
        required=False,
        help_text="Off: they are rejected with the message, even when calls are routed.",
    )

    VOICEMAIL = {
        "action": "voicemail_action",
        "message": "voicemail_message",
        "recording_url": "voicemail_recording_url",
        "then": "voicemail_then",
    }

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict[str, Any]:
        initial = {field: getattr(campaign, field) for field in OUTCOME_FIELDS if field != "voicemail_plan"}
        for key, name in cls.VOICEMAIL.items():
            initial[name] = (campaign.voicemail_plan or {}).get(key, "")
        return initial

    def values(self) -> dict[str, Any]:
        """The settings by model field name, as services.campaign_update takes them."""
        data = self.cleaned_data
        values = {f: data.get(f) for f in OUTCOME_FIELDS if f in self.fields}
        for text in ("objective", "objective_field", "callback_field", "inbound_rejection_message"):
            values[text] = (values[text] or "").strip()
        values["outcome_rules"] = values["outcome_rules"] or []
        values["inbound_mode"] = values["inbound_mode"] or INBOUND_DEFAULT_MODE
        plan = None
        if data.get("voicemail_action"):
            plan = {"action": data["voicemail_action"], "then": data.get("voicemail_then") or "done"}
            for key in ("message", "recording_url"):
                if data.get(self.VOICEMAIL[key]):
                    plan[key] = data[self.VOICEMAIL[key]]
        values["voicemail_plan"] = plan
        return values

    def attach_outcome_errors(self, errors: list[FieldError]) -> list[str]:
        """Each service error next to its field (`analysis_schema.properties.mood.enum` next to
        the schema, saying where in it); those that fit none are returned."""
        leftovers = []
        for error in errors:
            head, _, rest = error.field.partition(".")
            if head == "voicemail_plan" and rest.split(".")[0] in self.VOICEMAIL:
                self.add_error(self.VOICEMAIL[rest.split(".")[0]], error.message)
            elif head in self.fields:
                self.add_error(head, f"{rest}: {error.message}" if rest else error.message)
            else:
                leftovers.append(str(error))
        return leftovers
