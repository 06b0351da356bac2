"""PATCH of outcome settings: null clears the analysis schema and the voicemail plan, checked
whole against the other settings (a rule's field is free without a schema, the objective field
is not); the automatic-pause settings are read, echoed and bounded."""

from __future__ import annotations

from campaigns.models import Campaign
from tests.api.conftest import messages

SCHEMA = {
    "type": "object",
    "properties": {"objectiveMet": {"type": "boolean"}, "mood": {"enum": ["ok", "bad"]}},
}
VOICEMAIL = {"action": "hang-up", "then": "done"}


def test_null_clears_the_analysis_schema_and_the_voicemail_plan(api, create):
    body = create(analysisSchema=SCHEMA, voicemailPlan=VOICEMAIL)
    response = api.patch(
        f"/campaign/{body['id']}", {"analysisSchema": None, "voicemailPlan": None}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "analysisSchema" not in response.json() and "voicemailPlan" not in response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert (campaign.analysis_schema, campaign.voicemail_plan) == (None, None)


def test_a_schema_the_objective_field_names_is_not_cleared_alone(api, create):
    body = create(analysisSchema=SCHEMA, objectiveField="objectiveMet")
    response = api.patch(f"/campaign/{body['id']}", {"analysisSchema": None}, format="json")
    assert (response.status_code, messages(response)) == (
        400,
        ["objectiveField must name a boolean property of analysisSchema"],
    )
    assert Campaign.objects.get(pk=body["id"]).analysis_schema == SCHEMA
    # Cleared together with the setting that named it.
    response = api.patch(
        f"/campaign/{body['id']}", {"analysisSchema": None, "objectiveField": ""}, format="json"
    )
    assert response.status_code == 200, response.content


def test_null_on_create_is_absent_as_vapi_reads_it(create):
    body = create(analysisSchema=None)
    assert "analysisSchema" not in body


def test_automatic_pause_settings_are_echoed_and_bounded(api, create):
    body = create(autoPauseConsecutive=3, autoPauseWindow=40, autoPauseErrorRate=25, autoPauseEnabled=False)
    assert (body["autoPauseConsecutive"], body["autoPauseWindow"], body["autoPauseErrorRate"]) == (3, 40, 25)
    assert body["autoPauseEnabled"] is False
    response = api.patch(f"/campaign/{body['id']}", {"autoPauseWindow": 4}, format="json")
    assert (response.status_code, messages(response)) == (400, ["autoPauseWindow must not be less than 5"])
