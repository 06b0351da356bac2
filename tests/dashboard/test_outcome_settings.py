"""The outcome settings page: saved through the service, each refusal next to its field, nothing
half-saved."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, Campaign

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {"objectiveMet": {"type": "boolean"}, "mood": {"enum": ["ok", "bad"]}},
}


def form(**overrides) -> dict:
    data = {
        "objective": "Renew the contract.",
        "analysis_schema": json.dumps(SCHEMA),
        "objective_field": "",
        "outcome_rules": json.dumps([{"when": {"field": "mood", "equals": "bad"}, "then": "do-not-call"}]),
        "hang_up_is_opt_out": "on",
        "hang_up_opt_out_seconds": "4",
        "callback_field": "",
        "max_callbacks": "1",
        "voicemail_action": "leave-message",
        "voicemail_message": "Please call us back.",
        "voicemail_recording_url": "",
        "voicemail_then": "retry",
        "auto_pause_enabled": "on",
        "auto_pause_consecutive": "3",
        "auto_pause_window": "20",
        "auto_pause_error_rate": "40",
    }
    return {**data, **overrides}


def test_a_manager_saves_the_outcome_settings(as_manager, make_campaign):
    campaign = make_campaign(2)
    url = reverse("campaigns:outcome-settings", args=[campaign.pk])
    page = as_manager.get(url).content.decode()
    assert 'name="analysis_schema"' in page and "Automatic pause" in page
    response = as_manager.post(url, form())
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert campaign.analysis_schema == SCHEMA and campaign.hang_up_opt_out_seconds == 4
    assert campaign.voicemail_plan == {
        "action": "leave-message",
        "then": "retry",
        "message": "Please call us back.",
    }
    assert campaign.outcome_rules == [{"when": {"field": "mood", "equals": "bad"}, "then": "do-not-call"}]
    assert (campaign.auto_pause_consecutive, campaign.auto_pause_error_rate) == (3, 40)
    assert AuditEvent.objects.filter(action="campaign.update", target_id=str(campaign.pk)).exists()
    # Emptied, the schema and the plan are cleared.
    as_manager.post(url, form(analysis_schema="", outcome_rules="", voicemail_action=""))
    campaign.refresh_from_db()
    assert (campaign.analysis_schema, campaign.voicemail_plan, campaign.outcome_rules) == (None, None, [])


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {"analysis_schema": '{"type": "object", "properties": {"a": {"type": "nope"}}}'},
            "analysis_schema",
            "properties.a.type: ",
        ),
        ({"analysis_schema": "{not json"}, "analysis_schema", "Enter a valid JSON."),
        ({"voicemail_message": ""}, "voicemail_message", "leave-message needs"),
        ({"objective_field": "mood"}, "objective_field", "must name a boolean property"),
        ({"auto_pause_window": "2"}, "auto_pause_window", "must be an integer from 5 to 500"),
    ],
)
def test_a_refused_setting_is_shown_next_to_its_field_and_nothing_is_saved(
    as_manager, make_campaign, overrides, field, words
):
    campaign = make_campaign(2)
    response = as_manager.post(reverse("campaigns:outcome-settings", args=[campaign.pk]), form(**overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert words in " ".join(errors[field])
    assert Campaign.objects.get(pk=campaign.pk).analysis_schema is None
